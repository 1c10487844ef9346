"""What every other package may use: the base error and the clock. Imports nothing of Redress."""
