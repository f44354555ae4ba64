# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import logging
from datetime import timedelta

from psycopg2 import IntegrityError, OperationalError

from odoo import api, fields, models
from odoo.tools import SQL

from .. import wire
from ..http_client import K2KTransportError

_logger = logging.getLogger(__name__)


class K2KMessage(models.Model):
    """The outbox's delivery: one routine, ``_k2k_send``, for the scheduled
    action and for "Send Now"; it builds what is still to be built, hands
    each envelope to its connection and records the receiver's outcome."""

    _inherit = "k2k.message"

    @api.model
    def _cron_process_messages(self, batch_size=200):
        """Deliver a batch of due messages, oldest first, and tell Odoo's
        scheduler how many remain: it calls again (committing in between)
        while some do, and reschedules itself when its run is over."""
        self.flush_model(["state", "next_attempt_date"])
        due = SQL(
            "state = 'queued' "
            "AND (next_attempt_date IS NULL OR next_attempt_date <= %s)",
            fields.Datetime.now(),
        )
        self.env.cr.execute(
            SQL(
                "SELECT id FROM k2k_message WHERE %s "
                "ORDER BY id LIMIT %s FOR NO KEY UPDATE SKIP LOCKED",
                due,
                batch_size,
            )
        )
        messages = self.browse([row[0] for row in self.env.cr.fetchall()])
        messages._k2k_send()
        remaining = 0
        if len(messages) == batch_size:
            self.env.cr.execute(SQL("SELECT count(*) FROM k2k_message WHERE %s", due))
            remaining = self.env.cr.fetchone()[0]
        self.env["ir.cron"]._notify_progress(done=len(messages), remaining=remaining)

    def _k2k_send(self):
        """Build what is still to be built, then deliver each message through
        its connection and record the outcome. Each message in its own
        savepoint, so that one failure never blocks the others. Runs as the
        superuser: a message goes out on behalf of its company, whoever
        asked for it."""
        messages = self.sudo().filtered(lambda m: m.state == "queued")
        for message_type in set(messages.mapped("message_type")):
            messages.filtered(
                lambda m, t=message_type: m.message_type == t
            )._k2k_prepare()
        for message in messages:
            if message.state == "queued":
                message._k2k_send_one()

    def _k2k_prepare(self):
        """Let the adapter build the payloads of ``self`` (one message type)
        in one batch, or one by one when the batch fails."""
        adapter = self._k2k_get_adapter(self[:1].message_type)
        try:
            with self.env.cr.savepoint():
                adapter._k2k_prepare_messages(self)
        except Exception:  # noqa: BLE001 - retried one by one below
            _logger.warning(
                "K2K: batch preparation failed, retrying one by one", exc_info=True
            )
            for message in self:
                try:
                    with self.env.cr.savepoint():
                        adapter._k2k_prepare_messages(message)
                except Exception as error:  # noqa: BLE001 - shown in the log
                    message._k2k_record_outcome(
                        {
                            "outcome": "failed",
                            "detail": adapter._k2k_describe_prepare_error(error),
                        }
                    )

    def _k2k_send_one(self):
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                outcome = self.connection_id._k2k_deliver(self._k2k_get_envelope())
                self._k2k_record_outcome(outcome)
        except K2KTransportError as error:
            _logger.info("K2K message %s postponed: %s", self.id, error)
            self._k2k_schedule_retry(self.connection_id._k2k_describe_error(error))
        except (IntegrityError, OperationalError) as error:
            # Another worker applied the same document at the same time, or a
            # lock was held: try again later, it will be recognised.
            _logger.info("K2K message %s deferred: %s", self.id, error)
            self.write({"error": str(error), "attempt_count": self.attempt_count + 1})
        except Exception as error:  # noqa: BLE001 - shown in the log
            _logger.warning("K2K message %s failed", self.id, exc_info=True)
            self._k2k_record_outcome({"outcome": "failed", "detail": str(error)})

    def _k2k_get_envelope(self):
        """What travels: the same for every transport."""
        self.ensure_one()
        attachments = [
            {
                "name": attachment.name,
                "mimetype": attachment.mimetype,
                "datas": base64.b64encode(attachment.raw).decode(),
            }
            for attachment in self.attachment_id
        ]
        return wire.build_envelope(
            self.message_type,
            self.document_uid,
            self.revision,
            self.payload,
            attachments,
        )

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
        self._k2k_trigger_processing(at=when)

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
        if outcome.get("reference"):
            vals["partner_reference"] = outcome["reference"]
        record = outcome.get("record")
        if record:
            # The receiver is in this database: link its record.
            vals.update(partner_res_model=record._name, partner_res_id=record.id)
        self.write(vals)
        self._k2k_get_adapter(self.message_type)._k2k_on_outcome(self, outcome)
