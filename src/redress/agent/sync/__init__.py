"""Following hubs' feeds into the agent's in-memory banks, and where each one stands."""
