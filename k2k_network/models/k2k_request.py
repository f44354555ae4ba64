# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models


class K2KRequest(models.Model):
    """One request that reached this database's K2K endpoints from another
    database, accepted or refused.

    It is the trace an administrator reads when a partner says "you refused
    my invoice", and the memory of nonces that makes a replayed request
    recognisable.
    """

    _name = "k2k.request"
    _description = "K2K Inbound Request"
    _order = "id desc"
    _rec_name = "endpoint"

    connection_id = fields.Many2one(
        "k2k.connection", readonly=True, ondelete="cascade", index="btree_not_null"
    )
    endpoint = fields.Char(readonly=True)
    remote_addr = fields.Char(string="From Address", readonly=True)
    message_type = fields.Char(readonly=True)
    document_uid = fields.Char(string="Document", readonly=True)
    status_code = fields.Integer(string="HTTP Status", readonly=True)
    accepted = fields.Boolean(readonly=True, index=True)
    error_code = fields.Char(string="Error", readonly=True)
    reason = fields.Text(readonly=True)
    # Only accepted requests keep their nonce: it is what a replay repeats.
    nonce = fields.Char(readonly=True)

    _sql_constraints = [
        (
            "connection_nonce_uniq",
            "UNIQUE(connection_id, nonce)",
            "This request has already been received.",
        ),
    ]

    @api.model
    def _k2k_max_body_bytes(self):
        param = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("k2k_network.max_request_bytes", str(25 * 1024 * 1024))
        )
        return int(param)

    @api.model
    def _k2k_nonce_seen(self, connection, nonce):
        return bool(
            self.search_count(
                [("connection_id", "=", connection.id), ("nonce", "=", nonce)],
                limit=1,
            )
        )

    @api.autovacuum
    def _gc_k2k_requests(self):
        """Keep a month of trace; nonces need far less (the clock window)."""
        limit = fields.Datetime.now() - timedelta(days=30)
        self.search([("create_date", "<", limit)]).unlink()
