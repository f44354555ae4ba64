# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

import psycopg2

from odoo import api, fields, models
from odoo.tools import SQL

from .. import wire


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
    # Every request whose signature was verified keeps its nonce, accepted
    # or refused: it is what a replay repeats.
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

    @api.model_create_multi
    def create(self, vals_list):
        # What a partner (or anyone) sent, cleaned and capped before it is
        # stored: a NUL byte would abort the request's transaction.
        return super().create(
            [
                {key: wire.clean_text(value) for key, value in vals.items()}
                for vals in vals_list
            ]
        )

    @api.model
    def _k2k_log_refusal(self, vals):
        """Log a refusal without letting a flood of them grow the table: the
        same refusal (connection, address, endpoint, error) within a minute
        counts on the line of the first, unless another request holds that
        line (refusals in parallel): then it takes a line of its own rather
        than wait for it, or fail on it and be run again by Odoo. A refusal
        that keeps its nonce (its signature was verified) has a line of its
        own."""
        if not vals.get("nonce") and self._k2k_count_on_recent_refusal(vals):
            return self.browse()
        return self.create(vals)

    @api.model
    def _k2k_count_on_recent_refusal(self, vals):
        """Count ``vals`` on the line of the same refusal within a minute,
        if no other transaction holds or changed it; return whether it did."""
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        """
                        UPDATE k2k_request SET count = count + 1, reason = %s
                         WHERE id = (
                             SELECT id FROM k2k_request
                              WHERE accepted IS NOT TRUE
                                AND connection_id IS NOT DISTINCT FROM %s
                                AND remote_addr IS NOT DISTINCT FROM %s
                                AND endpoint IS NOT DISTINCT FROM %s
                                AND error_code IS NOT DISTINCT FROM %s
                                AND nonce IS NULL
                                AND create_date >= %s
                              ORDER BY id DESC
                              LIMIT 1
                                FOR NO KEY UPDATE SKIP LOCKED
                         )
                        RETURNING id
                        """,
                        wire.clean_text(vals.get("reason")),
                        vals.get("connection_id") or None,
                        wire.clean_text(vals.get("remote_addr")),
                        wire.clean_text(vals.get("endpoint")),
                        wire.clean_text(vals.get("error_code")),
                        fields.Datetime.now() - timedelta(minutes=1),
                    ),
                    # Expected under a flood, and handled below: not an
                    # error line in the server's log for each one.
                    log_exceptions=False,
                )
                return bool(self.env.cr.fetchone())
        except psycopg2.OperationalError:
            # Changed by a request that committed since this one began.
            return False

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
