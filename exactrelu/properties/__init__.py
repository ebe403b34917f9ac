"""Properties of networks (SPEC §5): VNN-LIB reading, exact output ranges, proving or
refuting properties with certificates, and checking other verifiers' result files."""
