"""Alembic migrations of the feedback store's database (see :mod:`warning.feedback_db`).

Run them with ``warning feedback migrate``; the server runs them at start-up too. A new
schema change is a new file in ``versions/`` (``alembic -c warning/feedback_migrations/
alembic.ini revision -m "..."``), tested from empty and from the previous revision on SQLite
and PostgreSQL (``tests/warning/test_feedback_migrations.py``).
"""
