"""Float paths (numpy, torch) for networks too large for exact enumeration."""
