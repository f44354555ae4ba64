# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import logging
from datetime import timedelta

from psycopg2 import IntegrityError, OperationalError

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .k2k_connection import K2KTransportError

_logger = logging.getLogger(__name__)

# Version of the message format, carried by every envelope so that a partner
# running another version of the addon can tell what it receives.
K2K_MESSAGE_VERSION = 1


class K2KMessage(models.Model):
    """One K2K message: the outbox of the sending side and the
    synchronization log both sides read.

    The sending side records *what* is to be sent (a document and its
    revision) at once and cheaply; the content (lines, amounts, PDF) is built
    by the scheduled action, so that whoever posts never waits for it.
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
    message_type = fields.Selection(
        [
            ("order", "K2K Order"),
            ("order_cancel", "K2K Order Cancellation"),
            ("invoice", "Invoice"),
            ("cancel", "Invoice Cancellation"),
            ("status", "Connection Status"),
        ],
        required=True,
        readonly=True,
    )
    document_uid = fields.Char(
        string="Document",
        required=True,
        readonly=True,
        index=True,
        help="Identifies the sent document across databases.",
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
    vendor_move_id = fields.Many2one(
        "account.move", string="Vendor Invoice", readonly=True, index="btree_not_null"
    )
    buyer_move_id = fields.Many2one(
        "account.move", string="Buyer Bill", readonly=True, index="btree_not_null"
    )
    purchase_order_id = fields.Many2one(
        "purchase.order", readonly=True, index="btree_not_null"
    )
    sale_order_id = fields.Many2one(
        "sale.order", string="K2K Order", readonly=True, index="btree_not_null"
    )

    # -- queue -------------------------------------------------------------

    @api.model
    def _k2k_trigger_processing(self):
        cron = self.env.ref("k2k_network.ir_cron_k2k_process_messages", False)
        if cron:
            cron.sudo()._trigger()

    @api.model
    def _k2k_requeue_waiting(self, domain):
        """Queue again the messages of ``domain`` that waited for a partner's
        consent or for the connection to be active."""
        waiting = self.sudo().search([("state", "=", "waiting")] + domain)
        if waiting:
            waiting.write({"state": "queued"})
            self._k2k_trigger_processing()

    @api.model
    def _cron_process_messages(self, batch_size=200):
        """Deliver queued messages, oldest first, each in its own savepoint
        so that one failure never blocks the others."""
        self.flush_model(["state", "next_attempt_date"])
        self.env.cr.execute(
            SQL(
                "SELECT id FROM k2k_message WHERE state = 'queued' "
                "AND (next_attempt_date IS NULL OR next_attempt_date <= %s) "
                "ORDER BY id LIMIT %s FOR NO KEY UPDATE SKIP LOCKED",
                fields.Datetime.now(),
                batch_size,
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        messages = self.browse(ids).sudo()
        messages._k2k_process()
        if len(ids) == batch_size:
            self._k2k_trigger_processing()

    def action_process_now(self):
        self.check_access("write")
        self.filtered(lambda m: m.state == "queued").sudo()._k2k_process()

    def action_retry(self):
        """Put failed or waiting messages back in the queue, and try queued
        ones that wait for their next attempt now."""
        self.check_access("write")
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

    def _k2k_schedule_retry(self, error):
        """The partner could not be reached: keep the message queued and try
        again later, waiting twice as long after each attempt (capped)."""
        self.ensure_one()
        params = self.env["ir.config_parameter"].sudo()
        base = float(params.get_param("k2k_network.retry_base_seconds", "60"))
        cap = float(params.get_param("k2k_network.retry_max_seconds", "3600"))
        attempts = self.attempt_count + 1
        delay = min(base * 2 ** (attempts - 1), cap)
        when = fields.Datetime.now() + timedelta(seconds=delay)
        self.write(
            {
                "attempt_count": attempts,
                "state": "queued",
                "error": error,
                "state_detail": self.env._(
                    "Partner unreachable, next attempt at %(when)s (UTC).",
                    when=fields.Datetime.to_string(when),
                ),
                "next_attempt_date": when,
            }
        )
        cron = self.env.ref("k2k_network.ir_cron_k2k_process_messages", False)
        if cron:
            cron.sudo()._trigger(at=when)

    def _k2k_process(self):
        # Build what must be built in batches first (PDFs are rendered by one
        # wkhtmltopdf run per company), then deliver one by one.
        invoices = self.filtered(lambda m: m.message_type == "invoice")
        try:
            with self.env.cr.savepoint():
                invoices._k2k_prepare_invoice_payloads()
        except Exception:  # noqa: BLE001 - retried one by one below
            _logger.warning(
                "K2K: batch preparation failed, retrying one by one", exc_info=True
            )
            for message in invoices:
                try:
                    with self.env.cr.savepoint():
                        message._k2k_prepare_invoice_payloads()
                except Exception as error:  # noqa: BLE001 - shown in the log
                    message._k2k_record_outcome(
                        {
                            "outcome": "failed",
                            "detail": self.env._(
                                "Could not prepare the invoice: %(error)s", error=error
                            ),
                        }
                    )
        for message in self:
            if message.state != "queued":
                continue
            try:
                with self.env.cr.savepoint():
                    outcome = message.connection_id._k2k_deliver(message)
                    message._k2k_record_outcome(outcome)
            except K2KTransportError as error:
                _logger.info("K2K message %s postponed: %s", message.id, error)
                message._k2k_schedule_retry(str(error))
            except (IntegrityError, OperationalError) as error:
                # Another worker applied the same document at the same time,
                # or a lock was held: try again later, it will be recognised.
                _logger.info("K2K message %s deferred: %s", message.id, error)
                message.write(
                    {"error": str(error), "attempt_count": message.attempt_count + 1}
                )
            except Exception as error:  # noqa: BLE001 - shown in the log
                _logger.warning("K2K message %s failed", message.id, exc_info=True)
                message._k2k_record_outcome({"outcome": "failed", "detail": str(error)})

    def _k2k_record_outcome(self, outcome):
        self.ensure_one()
        state = outcome["outcome"]
        # Each outcome ends an attempt: counted in the same write.
        vals = {
            "attempt_count": self.attempt_count + 1,
            "state": state,
            "state_detail": outcome.get("detail") or False,
            "error": outcome.get("detail") if state == "failed" else False,
            "date_done": fields.Datetime.now(),
            "next_attempt_date": False,
        }
        if outcome.get("buyer_move_id"):
            vals["buyer_move_id"] = outcome["buyer_move_id"]
        if outcome.get("sale_order_id"):
            vals["sale_order_id"] = outcome["sale_order_id"]
        self.write(vals)
        if self.purchase_order_id:
            self.purchase_order_id.sudo()._k2k_order_message_done(self, outcome)

    # -- invoice payloads --------------------------------------------------

    def _k2k_prepare_invoice_payloads(self):
        to_build = self.env["k2k.message"]
        for message in self:
            if message.payload:
                continue  # built on an earlier attempt: a retry resends it as it was
            move = message.vendor_move_id
            if move.state != "posted" or move.k2k_revision != message.revision:
                # A newer revision (or a cancellation) is on its way.
                message.write(
                    {
                        "state": "superseded",
                        "state_detail": self.env._(
                            "Superseded by a later change of the invoice."
                        ),
                        "date_done": fields.Datetime.now(),
                    }
                )
                continue
            to_build |= message
        if not to_build:
            return
        pdfs = to_build.vendor_move_id._k2k_get_invoice_pdfs()
        for message in to_build:
            move = message.vendor_move_id
            message.write(
                {
                    "payload": move._k2k_prepare_invoice_payload(message.connection_id),
                    "attachment_id": pdfs.get(move.id, self.env["ir.attachment"]).id,
                }
            )

    def _k2k_get_envelope(self):
        """What travels: the same for every transport."""
        self.ensure_one()
        attachments = []
        if self.attachment_id:
            attachments.append(
                {
                    "name": self.attachment_id.name,
                    "mimetype": self.attachment_id.mimetype,
                    "datas": base64.b64encode(self.attachment_id.raw).decode(),
                }
            )
        return {
            "version": K2K_MESSAGE_VERSION,
            "type": self.message_type,
            "document_uid": self.document_uid,
            "revision": self.revision,
            "payload": self.payload or {},
            "attachments": attachments,
        }
