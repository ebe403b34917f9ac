"""The command line: `main` (argument parsing, exit status), one module per command in
`commands`, text tables (`console`) and pictures (`plotting`)."""
