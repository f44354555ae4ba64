# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from .. import wire


class K2KMessage(models.Model):
    """The outbox of the sending side, and the synchronization log both
    sides read.

    It knows connections, message types, documents (by model and id here,
    by an identifier that only means something inside the connection on the
    wire), revisions, states and retries; what a document contains is the
    business of its adapter (``k2k.document.*``). A message is queued at once
    and cheaply (``_k2k_enqueue``); what is costly to build (a PDF) is built
    when it is sent (``_k2k_send``), so that whoever posts never waits.
    """

    _name = "k2k.message"
    _description = "K2K Synchronization Message"
    _order = "id desc"
    _rec_name = "name"

    name = fields.Char(required=True, readonly=True)
    connection_id = fields.Many2one(
        "k2k.connection", required=True, readonly=True, ondelete="cascade", index=True
    )
    # Precomputed: part of the INSERT, not an UPDATE right after it.
    vendor_company_id = fields.Many2one(
        related="connection_id.vendor_company_id",
        store=True,
        index=True,
        precompute=True,
    )
    buyer_company_id = fields.Many2one(
        related="connection_id.buyer_company_id",
        store=True,
        index=True,
        precompute=True,
    )
    # The types the document adapters declare (k2k.document), by the names
    # they give them.
    message_type = fields.Selection(
        selection="_selection_message_type", required=True, readonly=True
    )
    document_uid = fields.Char(
        string="Document",
        required=True,
        readonly=True,
        index=True,
        help="Names the sent document inside its connection.",
    )
    revision = fields.Integer(readonly=True, default=1)
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("delivered", "Delivered"),
            ("applied", "Applied"),
            ("waiting", "Waiting for Partner"),
            ("superseded", "Superseded"),
            ("failed", "Failed"),
        ],
        default="queued",
        required=True,
        readonly=True,
        index=True,
    )
    state_detail = fields.Char(string="Status", readonly=True)
    error = fields.Text(readonly=True)
    attempt_count = fields.Integer(string="Attempts", readonly=True)
    date_done = fields.Datetime(string="Processed on", readonly=True)
    next_attempt_date = fields.Datetime(
        string="Next Attempt",
        readonly=True,
        help="When the partner could not be reached, the message is tried "
        "again from this time on, waiting longer after each failed attempt.",
    )
    payload = fields.Json(readonly=True, copy=False)
    attachment_id = fields.Many2one("ir.attachment", string="PDF", readonly=True)
    # The sent document, in this database.
    res_model = fields.Char(string="Document Model", readonly=True, index=True)
    res_id = fields.Many2oneReference(
        string="Document ID", model_field="res_model", readonly=True, index=True
    )
    # What the receiver made of it: its name, and the record itself when the
    # receiver is in this database too.
    partner_reference = fields.Char(string="Partner's Document", readonly=True)
    # The number the partner in another database gave this message when it
    # applied it (k2k.remote.position): what it lost in a restore goes again.
    partner_receipt = fields.Integer(readonly=True, copy=False)
    partner_res_model = fields.Char(string="Received As Model", readonly=True)
    partner_res_id = fields.Many2oneReference(
        string="Received As ID",
        model_field="partner_res_model",
        readonly=True,
        index="btree_not_null",
    )
    document_ref = fields.Reference(
        selection="_selection_document_model",
        string="Sent Document",
        compute="_compute_document_refs",
    )
    partner_document_ref = fields.Reference(
        selection="_selection_document_model",
        string="Received As",
        compute="_compute_document_refs",
    )

    def init(self):
        result = super().init()
        # The highest receipt of a connection, read on every answer.
        tools.create_index(
            self.env.cr,
            "k2k_message_connection_receipt_index",
            self._table,
            ["connection_id", "partner_receipt"],
            where="partner_receipt > 0",
        )
        return result

    @api.model
    def _selection_message_type(self):
        return list(self.env["k2k.document"]._k2k_get_message_type_selection())

    @api.model
    def _selection_document_model(self):
        return [
            (model.model, model.name)
            for model in self.env["ir.model"].sudo().search([])
        ]

    @api.depends("res_model", "res_id", "partner_res_model", "partner_res_id")
    def _compute_document_refs(self):
        for message in self:
            message.document_ref = message._k2k_reference(
                message.res_model, message.res_id
            )
            message.partner_document_ref = message._k2k_reference(
                message.partner_res_model, message.partner_res_id
            )

    def _k2k_reference(self, model, res_id):
        if not (model and res_id and model in self.env):
            return False
        record = self.env[model].browse(res_id).exists()
        # Only what the reader may open: no access error in the log.
        return f"{model},{res_id}" if record._filtered_access("read") else False

    # -- the way in --------------------------------------------------------

    @api.model
    def _k2k_get_adapter(self, message_type):
        """The document adapter that builds and applies ``message_type``."""
        return self.env["k2k.document"]._k2k_get_adapter(message_type)

    @api.model
    def _k2k_enqueue(self, connection, message_type, records, payloads=None):
        """Queue a ``message_type`` message through ``connection`` for each of
        ``records``; return the messages.

        Each document keeps its identifier from one message to the next; a
        new message is a new revision, but a cancellation, which closes the
        revision it follows. Older messages of the same document that are
        still waiting to go are superseded. ``payloads`` maps a record id to
        its payload; a message without one gets it from its adapter when it
        is sent.
        """
        if not records:
            return self.sudo().browse()
        Message = self.sudo()
        adapter = self._k2k_get_adapter(message_type)
        known = Message._k2k_get_documents(connection, records, message_type)
        vals_list = []
        for record in records:
            document_uid, revision = known.get(record.id, (None, 0))
            if not wire.is_cancellation(message_type) or not revision:
                revision += 1
            vals_list.append(
                {
                    "name": adapter._k2k_get_message_name(message_type, record),
                    "connection_id": connection.id,
                    "message_type": message_type,
                    "document_uid": document_uid or wire.new_uid(),
                    "revision": revision,
                    "res_model": record._name,
                    "res_id": record.id,
                    "payload": (payloads or {}).get(record.id) or False,
                }
            )
        Message._k2k_supersede_older(
            connection,
            [uid for uid, _rev in known.values()],
            adapter._k2k_describe_superseded(),
        )
        messages = Message.create(vals_list)
        adapter.sudo()._k2k_on_enqueue(messages)
        # The scheduled action delivers them after this commit, unless the
        # caller sends them at once.
        self._k2k_trigger_processing()
        return messages.with_env(self.env)

    @api.model
    def _k2k_get_documents(self, connection, records, message_type):
        """``{record id: (document identifier, last revision)}`` for the
        records already sent through ``connection`` as ``message_type`` (or
        its cancellation, which closes the same document)."""
        self.flush_model(
            ["connection_id", "res_model", "res_id", "revision", "message_type"]
        )
        self.env.cr.execute(
            SQL(
                "SELECT res_id, document_uid, max(revision) FROM k2k_message "
                "WHERE connection_id = %s AND res_model = %s AND res_id IN %s "
                "AND message_type IN %s "
                "GROUP BY res_id, document_uid",
                connection.id,
                records._name,
                tuple(records.ids),
                wire.type_family(message_type),
            )
        )
        return {
            res_id: (uid, revision) for res_id, uid, revision in self.env.cr.fetchall()
        }

    @api.model
    def _k2k_get_document_domain(self, record):
        """The messages about ``record``: sent for it, or received as it
        (the receiver's record is named by its connection and document)."""
        record.ensure_one()
        domain = [
            "|",
            "&",
            ("res_model", "=", record._name),
            ("res_id", "=", record.id),
            "&",
            ("partner_res_model", "=", record._name),
            ("partner_res_id", "=", record.id),
        ]
        uid = record._fields.get("k2k_document_uid") and record.k2k_document_uid
        if uid and record.k2k_connection_id:
            domain = [
                "|",
                "&",
                ("connection_id", "=", record.k2k_connection_id.id),
                ("document_uid", "=", uid),
                *domain,
            ]
        return domain

    @api.model
    def _k2k_get_counterparts(self, records, sent):
        """``{record id: the other side's record}``, when both sides are in
        this database: for ``records`` that were sent (``sent``), what the
        receiver made of them; else, what they were received from."""
        if not records.ids:
            return {}
        own, other = ("res", "partner_res") if sent else ("partner_res", "res")
        messages = self.sudo().search(
            [
                (f"{own}_model", "=", records._name),
                (f"{own}_id", "in", records.ids),
                (f"{other}_id", "!=", False),
            ],
            order="id",
        )
        found = {}
        for message in messages:
            model = message[f"{other}_model"]
            if model in self.env:
                found[message[f"{own}_id"]] = self.env[model].browse(
                    message[f"{other}_id"]
                )
        # A record deleted since (a draft bill, say) is no counterpart.
        return {res_id: record.exists() for res_id, record in found.items()}

    @api.model
    def _k2k_supersede_older(self, connection, document_uids, detail):
        if not document_uids:
            return
        self.search(
            [
                ("connection_id", "=", connection.id),
                ("document_uid", "in", document_uids),
                ("state", "in", ("queued", "waiting")),
            ]
        )._k2k_mark_superseded(detail)

    def _k2k_mark_superseded(self, detail):
        """These messages need not go any more: a newer one says more."""
        self.write(
            {
                "state": "superseded",
                "state_detail": detail,
                "date_done": fields.Datetime.now(),
            }
        )

    def _k2k_get_lost_to_send(self):
        """Of ``self``, messages the partner lost, the newest of each
        document, unless a newer message of it is still to go (it says
        more); a key change never goes again: the partner's next exchange
        tells which key it holds."""
        lost = self.filtered(lambda m: m.message_type != "keys")
        if not lost:
            return lost
        self.flush_model(["connection_id", "document_uid", "state"])
        self.env.cr.execute(
            SQL(
                "SELECT connection_id, document_uid, max(id) FROM k2k_message "
                "WHERE connection_id IN %s AND document_uid IN %s "
                "AND state IN ('queued', 'waiting') GROUP BY 1, 2",
                tuple(lost.connection_id.ids),
                tuple(set(lost.mapped("document_uid"))),
            )
        )
        to_go = {(conn, uid): newest for conn, uid, newest in self.env.cr.fetchall()}
        newest = {}
        for message in lost:
            key = (message.connection_id.id, message.document_uid)
            if to_go.get(key, 0) > message.id:
                continue
            if key not in newest or newest[key].id < message.id:
                newest[key] = message
        return self.browse([message.id for message in newest.values()])

    def _k2k_send_again(self, detail):
        """Queue ``self`` again, as new: the partner lost what it made of
        them."""
        self.write(
            {
                "state": "queued",
                "state_detail": detail,
                "error": False,
                "attempt_count": 0,
                "next_attempt_date": False,
                "partner_receipt": 0,
            }
        )
        for message_type, messages in self.grouped("message_type").items():
            self._k2k_get_adapter(message_type)._k2k_on_send_again(messages)
        if self:
            self._k2k_trigger_processing()

    @api.model
    def _k2k_get_setting(self, key, default):
        """The whole number of at least 1 set in system parameter ``key``,
        else ``default``."""
        params = self.env["ir.config_parameter"].sudo()
        try:
            return max(int(params.get_param(key, default)), 1)
        except ValueError:
            return default

    @api.model
    def _k2k_trigger_processing(self, at=None):
        cron = self.env.ref("k2k_network.ir_cron_k2k_process_messages", False)
        if cron:
            cron.sudo()._trigger(at=at)

    @api.model
    def _k2k_requeue_waiting(self, domain, at=False):
        """Queue again the messages of ``domain`` that waited for a partner's
        consent or for the connection to be active: due at once, or at
        ``at``."""
        waiting = self.sudo().search([("state", "=", "waiting")] + domain)
        if waiting:
            waiting.write({"state": "queued", "next_attempt_date": at})
            self._k2k_trigger_processing(at=at or None)

    # -- user actions ------------------------------------------------------

    def _k2k_check_operator(self):
        """Sending again is for the users who follow the log: purchase and
        billing users (and administrators), on messages they may read."""
        user = self.env.user
        if not (
            self.env.is_system()
            or user.has_group("purchase.group_purchase_user")
            or user.has_group("account.group_account_invoice")
        ):
            raise AccessError(
                self.env._("Only purchase and billing users can send K2K messages.")
            )
        self.check_access("read")

    def action_process_now(self):
        self._k2k_check_operator()
        queued = self.filtered(lambda m: m.state == "queued")
        paused = queued.sudo().connection_id.filtered(lambda c: c._k2k_is_paused())
        queued._k2k_send()
        if not paused:
            return True
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning",
                "message": self.env._(
                    "Nothing was sent to %(partners)s: they kept failing, and "
                    "are left alone for a while (see their connection).",
                    partners=", ".join(paused.mapped("display_name")),
                ),
                # The log shows what became of the others.
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_retry(self):
        """Put failed or waiting messages back in the queue, and try queued
        ones that wait for their next attempt now."""
        self._k2k_check_operator()
        retryable = self.filtered(
            lambda m: m.state in ("failed", "waiting", "delivered")
            or (m.state == "queued" and m.next_attempt_date)
        )
        if not retryable:
            raise UserError(
                self.env._(
                    "Only failed, waiting, delivered or postponed messages can be "
                    "retried."
                )
            )
        retryable.sudo().write(
            {"state": "queued", "error": False, "next_attempt_date": False}
        )
        self._k2k_trigger_processing()
