"""The hash bank and its feed: signals, the items that hold them, holds for review."""
