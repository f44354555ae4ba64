# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class K2KReceived(models.Model):
    """What the receiving side remembers of a document beyond its record:
    that the sender cancelled it, or that this side deleted the record it
    made of it. Messages may overtake each other (a retry, a partner that
    was down): a cancellation must win over whatever of the same document
    is not newer, even when it arrived before the document itself; a
    deleted record is not made again from a revision it already had."""

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
    deleted_revision = fields.Integer(
        help="The revision the record made of the document held when it was "
        "deleted on this side."
    )
    deleted_res_id = fields.Integer(
        string="Deleted Record ID",
        index="btree_not_null",
        help="The id the deleted record had: the messages this side sent about "
        "it still name it.",
    )

    _sql_constraints = [
        (
            "document_uniq",
            "UNIQUE(connection_id, document_uid)",
            "A document is remembered once per connection.",
        ),
    ]

    @api.model
    def _k2k_get_received(self, connection, document_uid):
        return self.search(
            [
                ("connection_id", "=", connection.id),
                ("document_uid", "=", document_uid),
            ],
            limit=1,
        )

    @api.model
    def _k2k_get_cancelled_revision(self, connection, document_uid):
        return self._k2k_get_received(connection, document_uid).cancelled_revision

    @api.model
    def _k2k_remember(self, connection, document_uid, vals):
        known = self._k2k_get_received(connection, document_uid)
        if known:
            known.write(vals)
            return known
        return self.create(
            dict(vals, connection_id=connection.id, document_uid=document_uid)
        )

    @api.model
    def _k2k_remember_cancellation(self, connection, document_uid, revision):
        known = self._k2k_get_received(connection, document_uid)
        self._k2k_remember(
            connection,
            document_uid,
            {"cancelled_revision": max(known.cancelled_revision, revision)},
        )

    @api.model
    def _k2k_remember_deletion(self, record, revision):
        """``record``, made of a document received through its connection,
        is being deleted at ``revision``."""
        self._k2k_remember(
            record.k2k_connection_id,
            record.k2k_document_uid,
            {"deleted_revision": revision, "deleted_res_id": record.id},
        )
