"""The StopNCII-compatible API keeps no tables of its own: it reads and writes the bank's and
the feedback's through their services."""
