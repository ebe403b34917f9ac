"""The independent certificate checker (see `exactrelu.checker.reader` for its own case reader)."""
