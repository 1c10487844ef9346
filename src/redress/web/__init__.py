"""The web layer: the FastAPI application factory and what every route shares."""
