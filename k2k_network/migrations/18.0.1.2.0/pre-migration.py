# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.2.0: one key per direction instead of one shared secret, and
invitation codes that expire.

Both sides of a running connection had the same secret: it becomes each
side's key of both directions, so that the connection keeps working while
the two databases are upgraded one after the other; an administrator gives
each direction a key of its own with "Change Keys". An open invitation's
code (which had no expiry) is withdrawn: the administrator creates a new
one."""

from odoo.tools import sql


def _split_shared_secret(cr):
    if not sql.column_exists(cr, "k2k_connection", "remote_secret"):
        return
    for column in ("inbound_key", "outbound_key"):
        sql.create_column(cr, "k2k_connection", column, "varchar")
    cr.execute(
        """
        UPDATE k2k_connection
           SET inbound_key = remote_secret, outbound_key = remote_secret
         WHERE state != 'draft' AND remote_secret IS NOT NULL
        """
    )
    cr.execute("ALTER TABLE k2k_connection DROP COLUMN remote_secret")
    # A used code is not shown any more, an open one is withdrawn.
    cr.execute("UPDATE k2k_connection SET invitation_code = NULL")


def migrate(cr, version):
    if not version:
        return
    _split_shared_secret(cr)
