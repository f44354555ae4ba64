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
    count = fields.Integer(
        string="Times",
        default=1,
        readonly=True,
        help="Refusals of the same kind within a minute share one line.",
    )

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

    @api.model
    def _k2k_log_refusal(self, vals):
        """Log a refusal without letting a flood of them grow the table: the
        same refusal (connection, address, endpoint, error) within a minute
        counts on the line of the first."""
        same = self.search(
            [
                ("accepted", "=", False),
                ("connection_id", "=", vals.get("connection_id") or False),
                ("remote_addr", "=", vals.get("remote_addr")),
                ("endpoint", "=", vals.get("endpoint")),
                ("error_code", "=", vals.get("error_code")),
                ("create_date", ">=", fields.Datetime.now() - timedelta(minutes=1)),
            ],
            order="id desc",
            limit=1,
        )
        if same:
            same.write({"count": same.count + 1, "reason": vals.get("reason")})
            return same
        return self.create(vals)

    @api.autovacuum
    def _gc_k2k_requests(self):
        """Keep a month of accepted requests and a week of refusals; nonces
        need far less (the clock window)."""
        now = fields.Datetime.now()
        self.search(
            [
                "|",
                ("create_date", "<", now - timedelta(days=30)),
                "&",
                ("accepted", "=", False),
                ("create_date", "<", now - timedelta(days=7)),
            ]
        ).unlink()
