# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models, tools
from odoo.tools import SQL

from .. import wire


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

    # Between two databases (k2k.remote.position): the last receipt this
    # side gave an envelope of the document, its newest revision here, what
    # it made of it, and what is added to the revisions the partner numbers
    # again after it restored its database from a backup.
    message_type = fields.Char(readonly=True)
    receipt = fields.Integer(readonly=True)
    revision = fields.Integer(readonly=True)
    revision_offset = fields.Integer(readonly=True)
    res_model = fields.Char(readonly=True)
    res_id = fields.Many2oneReference(model_field="res_model", readonly=True)

    _sql_constraints = [
        (
            "document_uniq",
            "UNIQUE(connection_id, document_uid)",
            "A document is remembered once per connection.",
        ),
    ]

    def init(self):
        result = super().init()
        # The highest receipt of a connection, read on every answer.
        tools.create_index(
            self.env.cr,
            "k2k_received_connection_receipt_index",
            self._table,
            ["connection_id", "receipt"],
            where="receipt > 0",
        )
        return result

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

    @api.model
    def _k2k_note_receipt(self, connection, envelope, receipt, record=None):
        """Remember the receipt this side gave ``envelope`` and the record it
        made of it: one statement per envelope, on the hot path."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "INSERT INTO k2k_received (connection_id, document_uid, "
                "message_type, receipt, revision, res_model, res_id, create_uid, "
                "create_date, write_uid, write_date) "
                "VALUES (%(connection)s, %(uid)s, %(type)s, %(receipt)s, "
                "%(revision)s, %(model)s, %(res_id)s, %(user)s, now() at time zone "
                "'UTC', %(user)s, now() at time zone 'UTC') "
                "ON CONFLICT (connection_id, document_uid) DO UPDATE SET "
                "receipt = EXCLUDED.receipt, message_type = EXCLUDED.message_type, "
                "revision = GREATEST(k2k_received.revision, EXCLUDED.revision), "
                "res_model = COALESCE(EXCLUDED.res_model, k2k_received.res_model), "
                "res_id = COALESCE(EXCLUDED.res_id, k2k_received.res_id), "
                "write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date",
                connection=connection.id,
                uid=envelope["document_uid"],
                type=wire.CANCEL_TYPES.get(envelope["type"], envelope["type"]),
                receipt=receipt,
                revision=envelope["revision"],
                model=record._name if record else None,
                res_id=record.id if record else None,
                user=self.env.uid,
            )
        )
        self.invalidate_model()

    @api.model
    def _k2k_get_revision_offsets(self, connection, document_uids):
        """``{document identifier: offset}`` of those the partner numbers
        again since it restored its database."""
        if not document_uids:
            return {}
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT document_uid, revision_offset FROM k2k_received "
                "WHERE connection_id = %s AND document_uid IN %s "
                "AND revision_offset > 0",
                connection.id,
                tuple(document_uids),
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _k2k_take_partner_restart(self, connection, seen):
        """The partner restored its database and recorded receipts up to
        ``seen`` only: what this side applied of it after that was sent
        after its backup. Its next revisions of those documents count above
        every revision of them here; return those documents."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "UPDATE k2k_received SET revision_offset = revision "
                "WHERE connection_id = %s AND receipt > %s RETURNING id",
                connection.id,
                seen,
            )
        )
        restarted = self.browse([row[0] for row in self.env.cr.fetchall()])
        self.invalidate_model()
        return restarted
