# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.4.0: a vendor's revision held for accounting is a file beside its
bill.

Before, it was a JSON column of ``account_move`` (its PDFs with it), read
with every bill a list showed. Each one becomes the field's attachment, as
the ORM stores a binary field, and the column goes."""

import base64
import json

from odoo import SUPERUSER_ID, api
from odoo.tools import sql


def _move_held_revisions_to_files(cr):
    if not sql.column_exists(cr, "account_move", "k2k_pending_envelope"):
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    cr.execute(
        "SELECT id, k2k_pending_envelope FROM account_move "
        "WHERE k2k_pending_envelope IS NOT NULL"
    )
    for move_id, envelope in cr.fetchall():
        env["account.move"].browse(move_id).write(
            {"k2k_pending_envelope": base64.b64encode(json.dumps(envelope).encode())}
        )
    env.flush_all()
    cr.execute("ALTER TABLE account_move DROP COLUMN k2k_pending_envelope")


def migrate(cr, version):
    if not version:
        return
    _move_held_revisions_to_files(cr)
