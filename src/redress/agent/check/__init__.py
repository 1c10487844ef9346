"""`check`: match a piece of content (a file or its hashes) against every hub's bank."""
