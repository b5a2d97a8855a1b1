"""One file per schema revision (Alembic reads them; nothing imports them)."""
