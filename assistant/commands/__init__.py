"""One module per CLI subcommand: argument handling and printing only; the work is in the core."""
