"""Recent scoring responses in the database, so that feedback can name a response by its id
on any replica that shares the database. On SQLite: the primary keys become NOT NULL (the
hand-written schema's ``TEXT PRIMARY KEY`` let SQLite store a NULL id; the tables are rebuilt,
their rows copied), and ``user_version`` goes to 2, so software from before the migrations
refuses the file instead of misreading it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recent_responses",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("expires", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lang", sa.Text()),
        sa.Column("scores", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
    )
    op.create_index("recent_responses_created", "recent_responses", ["created"])
    op.create_index("recent_responses_expires", "recent_responses", ["expires"])
    if op.get_context().dialect.name == "sqlite":
        for table in _sqlite_tables():
            # rebuilt from this definition (not from reflection, which would keep the NULLs)
            with op.batch_alter_table(table.name, copy_from=table, recreate="always"):
                pass
        op.execute("PRAGMA user_version = 2")


def _sqlite_tables() -> list[sa.Table]:
    """``meta`` and ``feedback`` as revision 0001 defines them (primary keys NOT NULL)."""
    metadata = sa.MetaData()
    meta = sa.Table("meta", metadata,
                    sa.Column("key", sa.Text(), primary_key=True),
                    sa.Column("value", sa.Text(), nullable=False))
    feedback = sa.Table(
        "feedback", metadata,
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("created", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lang", sa.Text()),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("submitter", sa.Text(), nullable=False),
        sa.Column("response_id", sa.Text()),
        sa.Column("model", sa.Text()),
        sa.Column("scores", sa.Text()),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.Text()),
        sa.Column("reviewed", sa.Text()),
        sa.Column("review_note", sa.Text()),
        sa.CheckConstraint("status IN ('pending', 'confirmed', 'rejected')",
                           name="feedback_status_check"),
        sa.Index("feedback_status_created", "status", "created"),
        sa.Index("feedback_created", "created"),
    )
    return [meta, feedback]


def downgrade() -> None:
    op.drop_index("recent_responses_expires", table_name="recent_responses")
    op.drop_index("recent_responses_created", table_name="recent_responses")
    op.drop_table("recent_responses")
    if op.get_context().dialect.name == "sqlite":
        op.execute("PRAGMA user_version = 1")
