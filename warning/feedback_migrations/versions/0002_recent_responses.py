"""Recent scoring responses in the database, so that feedback can name a response by its id
on any replica that shares the database; SQLite's ``user_version`` goes to 2, so software from
before the migrations refuses the file instead of misreading it.

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
        op.execute("PRAGMA user_version = 2")


def downgrade() -> None:
    op.drop_index("recent_responses_expires", table_name="recent_responses")
    op.drop_index("recent_responses_created", table_name="recent_responses")
    op.drop_table("recent_responses")
    if op.get_context().dialect.name == "sqlite":
        op.execute("PRAGMA user_version = 1")
