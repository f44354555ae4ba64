# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.4.0: each side of a connection between two databases has a
history (k2k.remote.position). Made here for the connections that exist, in
the upgrade's transaction, rather than in the first exchange after it: an
exchange that rolled back after its answer left would have told the partner
a history this side never kept. And the connections that exist are in the
database they were made for: nothing to check with their partners."""

import uuid


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "UPDATE k2k_connection SET database_oid = "
        "(SELECT oid::text FROM pg_database WHERE datname = current_database())"
    )
    cr.execute(
        "SELECT id FROM k2k_connection "
        "WHERE transport = 'http' AND history_uid IS NULL"
    )
    for (connection_id,) in cr.fetchall():
        cr.execute(
            "UPDATE k2k_connection SET history_uid = %s WHERE id = %s",
            (uuid.uuid4().hex, connection_id),
        )
