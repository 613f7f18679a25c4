"""Users gain ``token_generation``: bearer tokens carry the generation they were issued under (claim ``gen``)
and are honoured only while it is current, so a password change, a deactivation or a logout revokes every
token issued before (app.auth.service.revoke_tokens). Existing users start at 0.

Reviewed by hand. No batch mode, on purpose: adding a column is native on SQLite, and so is dropping one
(SQLite 3.35+). Batch mode would copy ``users`` into a new table and drop the old one, and with foreign
keys on (app.core.db turns them on for every connection) dropping ``users`` deletes its worker_grids
rows by cascade, or fails on the cases and api keys that reference it.

Revision ID: 20261207_0006
Revises: 20261207_0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_0006"
down_revision: str | Sequence[str] | None = "20261207_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("token_generation", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    op.drop_column("users", "token_generation")
