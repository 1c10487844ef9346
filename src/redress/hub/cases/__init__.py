"""Survivors' cases: case number and PIN, items, withdrawal, contact, portal sign-ins."""
