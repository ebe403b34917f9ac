"""Small real models trained here, for the float paths and the documentation (needs torch)."""
