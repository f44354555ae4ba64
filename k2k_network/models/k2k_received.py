# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class K2KReceived(models.Model):
    """What the receiving side remembers of a document: that it was
    cancelled. Messages may overtake each other (a retry, a partner that was
    down), and a cancellation must win over whatever of the same document
    comes after it, even when it arrived before the document itself."""

    _name = "k2k.received"
    _description = "K2K Received Document"
    _rec_name = "document_uid"

    connection_id = fields.Many2one(
        "k2k.connection", required=True, ondelete="cascade", index=True
    )
    document_uid = fields.Char(string="Document", required=True)
    cancelled_revision = fields.Integer(
        help="The revision the sender cancelled the document at."
    )

    _sql_constraints = [
        (
            "document_uniq",
            "UNIQUE(connection_id, document_uid)",
            "A document is remembered once per connection.",
        ),
    ]

    @api.model
    def _k2k_get_cancelled_revision(self, connection, document_uid):
        return self.search(
            [
                ("connection_id", "=", connection.id),
                ("document_uid", "=", document_uid),
            ],
            limit=1,
        ).cancelled_revision

    @api.model
    def _k2k_remember_cancellation(self, connection, document_uid, revision):
        known = self.search(
            [
                ("connection_id", "=", connection.id),
                ("document_uid", "=", document_uid),
            ],
            limit=1,
        )
        if known:
            known.cancelled_revision = max(known.cancelled_revision, revision)
        else:
            self.create(
                {
                    "connection_id": connection.id,
                    "document_uid": document_uid,
                    "cancelled_revision": revision,
                }
            )
