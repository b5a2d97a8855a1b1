"""The HTTP API (FastAPI). Depends on ``warning``; ``warning`` never imports it."""
