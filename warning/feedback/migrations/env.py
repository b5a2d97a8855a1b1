"""Alembic's environment: the connection comes from :func:`warning.feedback.db.migrate` (in
its transaction, under its lock), or from ``-x url=...`` on Alembic's own command line."""

from __future__ import annotations

from alembic import context

from warning.feedback.db import Base, database_url, make_engine

config = context.config
connection = config.attributes.get("connection")
if context.is_offline_mode():
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///feedback.db")
    context.configure(url=database_url(url), target_metadata=Base.metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
elif connection is not None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the database: alembic ... -x url=sqlite:////path/feedback.db")
    engine = make_engine(database_url(url))
    with engine.begin() as own:
        context.configure(connection=own, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
