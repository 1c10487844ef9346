"""Redress: hash intimate images on the device, share only hashes, find and remove copies."""

__version__ = "0.1.0"
