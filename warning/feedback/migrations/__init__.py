"""Alembic migrations of the feedback store's database (see :mod:`warning.feedback.db`).

Run them with ``warning feedback migrate``; the server runs them at start-up too. A new
schema change is a new file in ``versions/`` (``alembic -c warning/feedback/migrations/
alembic.ini revision -m "..."``), tested from empty and from the previous revision on SQLite
and PostgreSQL (``tests/warning/feedback/test_migrations.py``).
"""
