"""The negative bank: hashes the platform knows to be benign, whose matches are dropped."""
