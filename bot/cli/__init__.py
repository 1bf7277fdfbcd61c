"""The `tiendo` command line: `main` parses, each module beside it is one group of commands."""
