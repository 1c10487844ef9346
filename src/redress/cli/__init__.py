"""The `redress` command line: thin commands over the library layers."""
