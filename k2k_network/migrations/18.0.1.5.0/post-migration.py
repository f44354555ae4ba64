# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.5.0: a side tells the partner what it had recorded of it when its
own history began only while the partner is still in the history those
receipts are of (k2k.remote.position.history_since_seen_in). Before, that was
always the partner's history as this side knows it: kept so for the
connections that exist, whose partner has not restarted since."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "UPDATE k2k_connection SET history_since_seen_in = partner_history_uid "
        "WHERE transport = 'http' AND history_since_seen_in IS NULL"
    )
