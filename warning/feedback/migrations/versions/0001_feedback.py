"""The feedback store as it was made by hand before migrations (``PRAGMA user_version = 1``):
the ``meta`` table with the salt of key identities, and the ``feedback`` table.

A SQLite file made by that code is stamped with this revision, not re-created
(:func:`warning.feedback.db.migrate`).

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    meta = op.create_table(
        "meta",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "feedback",
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
    )
    op.create_index("feedback_status_created", "feedback", ["status", "created"])
    op.create_index("feedback_created", "feedback", ["created"])
    # the salt of key identities (HMAC of a key): made once, with the database
    op.bulk_insert(meta, [{"key": "salt", "value": secrets.token_hex(32)}])


def downgrade() -> None:
    op.drop_index("feedback_created", table_name="feedback")
    op.drop_index("feedback_status_created", table_name="feedback")
    op.drop_table("feedback")
    op.drop_table("meta")
