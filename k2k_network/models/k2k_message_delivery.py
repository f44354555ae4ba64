# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import logging
import time
import uuid
from datetime import timedelta

from psycopg2 import IntegrityError, OperationalError

from odoo import api, fields, models
from odoo.exceptions import MissingError, UserError
from odoo.tools import SQL, config

from .. import wire
from ..http_client import K2KTransportError
from .ir_actions_report import K2KPdfNotMade, K2KPdfTimeout

_logger = logging.getLogger(__name__)


class K2KMessage(models.Model):
    """The outbox's delivery: one routine, ``_k2k_send``, for the scheduled
    action and for "Send Now"; it hands each connection's messages to its
    transport and records what became of each."""

    _inherit = "k2k.message"

    @api.model
    def _cron_process_messages(self, batch_size=None):
        """Deliver one small batch of due messages, partners in turn, and
        tell Odoo's scheduler how many remain: it commits the batch and calls
        again while some do. A run that nears Odoo's cron time limit ends,
        and a run of its own takes the rest."""
        batch_size = batch_size or self._k2k_get_batch_size()
        self.env["k2k.connection"].sudo()._k2k_check_database_identity()
        if self._k2k_run_is_over():
            # done=0: Odoo ends this run (and would call again past its limit).
            self._k2k_trigger_processing()
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return
        messages = self._k2k_take_due(batch_size)
        messages._k2k_send()
        remaining = self._k2k_count_due() if len(messages) == batch_size else 0
        self.env["ir.cron"]._notify_progress(done=len(messages), remaining=remaining)

    @api.model
    def _k2k_get_batch_size(self):
        """How many messages one call of the scheduled action takes (then
        commits): enough for the PDFs of a batch to cost little each (one
        wkhtmltopdf run for them all) and for the next requests to a partner
        to be built while it applies the last, few enough for a call to end
        well within Odoo's cron time limit."""
        return self._k2k_get_setting("k2k_network.batch_size", 100)

    # Start of each scheduled run in this process, by (database, cron, the
    # run's "lastcall"): all the calls of one run share it.
    _k2k_run_starts = {}

    @api.model
    def _k2k_run_is_over(self):
        context = self.env.context
        if "cron_id" not in context:
            return False  # called by hand, not by the scheduler
        key = (self.env.cr.dbname, context["cron_id"], context.get("lastcall"))
        now = time.monotonic()
        starts = type(self)._k2k_run_starts
        for old in [k for k, start in starts.items() if now - start > 3600]:
            del starts[old]
        return now - starts.setdefault(key, now) > self._k2k_get_time_budget()

    @api.model
    def _k2k_get_time_budget(self):
        """Seconds one run may spend starting deliveries: half of Odoo's cron
        time limit, less one delivery's worst case."""
        limit = config["limit_time_real_cron"]
        if not limit or limit < 0:
            limit = config["limit_time_real"] or 120
        timeout = self.env["k2k.connection"]._k2k_get_timeout()
        return max(limit / 2 - timeout, 5)

    @api.model
    def _k2k_due_condition(self):
        now = fields.Datetime.now()
        # A partner left alone for a while (``_k2k_note_unreachable``): its
        # messages are not due, and take no place in a batch.
        return SQL(
            "state = 'queued' "
            "AND (next_attempt_date IS NULL OR next_attempt_date <= %s) "
            "AND connection_id NOT IN (SELECT id FROM k2k_connection "
            "WHERE delivery_paused_until > %s)",
            now,
            now,
        )

    @api.model
    def _k2k_count_due(self):
        self.flush_model(["state", "next_attempt_date"])
        self.env["k2k.connection"].flush_model(["delivery_paused_until"])
        self.env.cr.execute(
            SQL("SELECT count(*) FROM k2k_message WHERE %s", self._k2k_due_condition())
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _k2k_take_due(self, limit):
        """Lock up to ``limit`` due messages that no other worker holds,
        partners in turn (the first of each connection, then the second...),
        each connection's in the order they were queued. Within a turn the
        partners come in an order drawn anew at each call: the places of a
        batch that does not split evenly between them would otherwise go to
        the same partners (those with the oldest messages) every time."""
        self.flush_model(["state", "next_attempt_date"])
        self.env["k2k.connection"].flush_model(["delivery_paused_until"])
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM k2k_message
                 WHERE id IN (
                     SELECT id FROM (
                         SELECT id, connection_id, row_number() OVER (
                                    PARTITION BY connection_id ORDER BY id
                                ) AS turn
                           FROM k2k_message WHERE %s
                     ) AS due
                      ORDER BY turn, md5(connection_id::text || %s), id
                      LIMIT %s
                 )
                 ORDER BY id
                   FOR NO KEY UPDATE SKIP LOCKED
                """,
                self._k2k_due_condition(),
                uuid.uuid4().hex,
                limit,
            )
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def _k2k_send(self):
        """Build what is still to be built, hand each connection's messages
        to its transport (``k2k.transport.*``) and record what became of
        each. A message that fails never blocks the others (each is built
        and recorded in its own savepoint). Runs as the superuser: a message
        goes out on behalf of its company, whoever asked for it."""
        # Also when a user sends before the first scheduled run after a
        # restore.
        self.env["k2k.connection"].sudo()._k2k_check_database_identity()
        messages = self.sudo().filtered(
            # A partner left alone for a while is not tried, whoever asks:
            # an administrator sends to it again from the connection.
            lambda m: m.state == "queued" and not m.connection_id._k2k_is_paused()
        )
        held = messages.filtered(
            lambda m: m.connection_id.position_check_pending
            and m.message_type != "status"
        )
        if held:
            self.env["k2k.connection"]._k2k_hold_until_checked(held)
            messages -= held
        waiting = messages.filtered(
            lambda m: not m.connection_id._k2k_carries_now(m.message_type)
        )
        if waiting:
            waiting._k2k_wait_for_connection()
        by_transport = (messages - waiting).grouped(
            lambda m: m.connection_id._k2k_get_transport()._name
        )
        for transport, batch in by_transport.items():
            sending = self.env[transport].sudo()._k2k_send(batch)
            try:
                for results in sending:
                    batch._k2k_record_results(results)
            finally:
                sending.close()

    def _k2k_wait_for_connection(self):
        """Build ``self`` (messages whose connection does not carry them
        now) and keep each waiting for its connection."""
        held = self._k2k_prepare_by_type()
        for message in self - held:

            def wait(message=message):
                message._k2k_check_sendable()
                message._k2k_get_envelope()  # what could not go fails now
                message._k2k_record_outcome(
                    {
                        "outcome": wire.OUTCOME_WAITING,
                        "detail": message.connection_id._get_inactive_reason(),
                    }
                )

            message._k2k_attempt(wait)

    def _k2k_build_envelopes(self):
        """Check and build the envelope of each message of ``self``; return
        ``{message: its envelope, or the error that kept it from going}``."""
        built = {}
        for message in self:
            try:
                with self.env.cr.savepoint():
                    message._k2k_check_sendable()
                    built[message] = message._k2k_get_envelope()
            except Exception as error:  # noqa: BLE001 - recorded on the message
                built[message] = error
        return built

    def _k2k_record_results(self, results):
        """Record, in the order of ``self``, what a transport gave back for
        each message (see ``k2k.transport._k2k_send``); a message it left
        out stays queued."""
        for message in self:
            if message in results:
                message._k2k_record_result(results[message])

    def _k2k_record_result(self, result):
        self.ensure_one()
        if isinstance(result, K2KTransportError):
            self._k2k_schedule_retry(self.connection_id._k2k_describe_error(result))
        elif isinstance(result, Exception):

            def fail():
                raise result

            self._k2k_attempt(fail)
        else:
            self._k2k_attempt(lambda: self._k2k_record_outcome(result))

    def _k2k_prepare_by_type(self):
        """Build the payloads of ``self``, one batch per message type, and
        read what the checks before each one goes need; return the messages
        that do not go in this run: postponed (their PDF was not made, or not in
        time) or failed meanwhile."""
        postponed = self.browse()
        for message_type in set(self.mapped("message_type")):
            postponed |= self.filtered(
                lambda m, t=message_type: m.message_type == t
            )._k2k_prepare()
        self._k2k_prefetch_documents()
        return postponed | self.filtered(lambda m: m.state != "queued")

    def _k2k_prepare(self):
        """Let the adapter build the payloads of ``self`` (one message type)
        in one batch, or one by one when the batch fails; return the
        messages postponed (their PDF was not made, or not in time)."""
        adapter = self._k2k_get_adapter(self[:1].message_type)
        postponed = self.browse()
        try:
            with self.env.cr.savepoint():
                adapter._k2k_prepare_messages(self)
        except K2KPdfTimeout as error:
            # Built one by one, each would wait as long: the batch waits for
            # a later attempt, and the other messages of this run go on.
            _logger.warning("K2K: %s", error)
            self._k2k_postpone_render(adapter._k2k_describe_prepare_error(error))
            postponed = self
        except Exception:  # noqa: BLE001 - retried one by one below
            _logger.warning(
                "K2K: batch preparation failed, retrying one by one", exc_info=True
            )
            for message in self:
                try:
                    with self.env.cr.savepoint():
                        adapter._k2k_prepare_messages(message)
                except K2KPdfNotMade as error:
                    _logger.warning("K2K: %s", error)
                    message._k2k_postpone_render(
                        adapter._k2k_describe_prepare_error(error),
                        timed_out=isinstance(error, K2KPdfTimeout),
                    )
                    postponed |= message
                except Exception as error:  # noqa: BLE001 - shown in the log
                    message._k2k_record_outcome(
                        {
                            "outcome": "failed",
                            "detail": adapter._k2k_describe_prepare_error(error),
                        }
                    )
        return postponed

    def _k2k_attempt(self, work):
        """Run ``work()``, one part of this message's delivery, in its own
        savepoint; return whether it went through. A failure fails this
        message only (or defers it)."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                work()
        except (IntegrityError, OperationalError) as error:
            # Another worker applied the same document at the same time, or a
            # lock was held: try again later, it will be recognised.
            _logger.info("K2K message %s deferred: %s", self.id, error)
            text = wire.clean_text(str(error))
            self._k2k_record_safely(
                lambda: self.write(
                    {"error": text, "attempt_count": self.attempt_count + 1}
                )
            )
        except Exception as error:  # noqa: BLE001 - shown in the log
            _logger.warning("K2K message %s failed", self.id, exc_info=True)
            text = str(error)
            self._k2k_record_safely(
                lambda: self._k2k_record_outcome({"outcome": "failed", "detail": text}),
                lambda: self._k2k_record_outcome(
                    {
                        "outcome": "failed",
                        "detail": self.env._("It failed: see the server's log."),
                    }
                ),
            )
        else:
            return True
        return False

    def _k2k_record_safely(self, record, fallback=None):
        """Run ``record()``, which records what became of this message, in
        its own savepoint: whatever a partner's answer holds, its failure to
        be stored stays with this message and never rolls back the outcomes
        of the other partners' messages in the same run. When it fails, run
        ``fallback()`` (which records no partner's words), if any."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                record()
        except Exception:
            _logger.exception("K2K message %s: its outcome cannot be stored", self.id)
            if fallback is None:
                raise
            with self.env.cr.savepoint():
                fallback()

    def _k2k_prefetch_documents(self):
        """Read the documents and files of ``self`` together, for the checks
        before each one goes."""
        self.attachment_id.mapped("res_id")
        for model in set(self.mapped("res_model")) & set(self.env):
            records = self.env[model].browse(
                self.filtered(lambda m, model=model: m.res_model == model).mapped(
                    "res_id"
                )
            )
            if "company_id" in records._fields:
                # Deleted since queued: each such message fails alone later.
                records.exists().mapped("company_id")

    def _k2k_check_sendable(self):
        """A message carries its own document, from that document's company
        and with that document's PDF only: whatever was written on it."""
        self.ensure_one()
        adapter = self._k2k_get_adapter(self.message_type)
        sender = None
        if self.res_model in self.env and self.res_id:
            record = self.env[self.res_model].browse(self.res_id)
            try:
                sender = adapter._k2k_get_sender(self.message_type, record)
            except MissingError:
                sender = None  # deleted since it was queued
        if not sender:
            raise UserError(self.env._("The document of this message is gone."))
        side = wire.receiving_side(self.message_type)
        expected = (
            self.connection_id
            if side == wire.ANY_SIDE
            else self.connection_id[f"{wire.other_side(side)}_company_id"]
        )
        if sender != expected:
            raise UserError(
                self.env._(
                    "%(document)s does not belong to the sending side of "
                    "%(connection)s.",
                    document=record.display_name,
                    connection=self.connection_id.display_name,
                )
            )
        own = (self.res_model, self.res_id)
        for attachment in self.attachment_id:
            if (attachment.res_model, attachment.res_id) != own:
                raise UserError(
                    self.env._("A message carries its own document's files only.")
                )

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
        envelope = wire.build_envelope(
            self.message_type,
            self.document_uid,
            self.revision,
            self.payload,
            attachments,
        )
        adapter = self._k2k_get_adapter(self.message_type)
        return adapter._k2k_complete_envelope(self, envelope)

    def _k2k_get_next_attempt_date(self):
        """When ``self`` (one message) is tried again after this attempt:
        twice as long after each attempt (capped)."""
        self.ensure_one()
        delay = self._k2k_get_retry_delay(self.attempt_count)
        return fields.Datetime.now() + timedelta(seconds=delay)

    @api.model
    def _k2k_get_retry_delay(self, attempts):
        """Seconds to wait after ``attempts`` attempts that failed, less the
        last: ``k2k_network.retry_base_seconds`` (60), twice as long after
        each, up to ``k2k_network.retry_max_seconds`` (3600)."""
        params = self.env["ir.config_parameter"].sudo()
        base = float(params.get_param("k2k_network.retry_base_seconds", "60"))
        cap = float(params.get_param("k2k_network.retry_max_seconds", "3600"))
        return min(base * 2 ** min(attempts, 30), max(cap, base))

    def _k2k_prepare_postponed_vals(self, error, detail, when):
        """This message queued again after a failed attempt, for ``when``."""
        self.ensure_one()
        return {
            "attempt_count": self.attempt_count + 1,
            "state": "queued",
            "error": error,
            "state_detail": detail,
            "next_attempt_date": when,
        }

    def _k2k_postpone_render(self, error, timed_out=True):
        """The PDFs of ``self`` could not be made (in time, when
        ``timed_out``: the renderer is stuck, not the partner): keep each
        message queued and try it again later, like a partner out of reach,
        without holding the connection's other messages."""
        for message in self:
            when = message._k2k_get_next_attempt_date()
            words = {"when": fields.Datetime.to_string(when)}
            if timed_out:
                detail = self.env._(
                    "PDF not made in time, next attempt at %(when)s (UTC).", **words
                )
            else:
                detail = self.env._(
                    "PDF not made, next attempt at %(when)s (UTC).", **words
                )
            message.write(message._k2k_prepare_postponed_vals(error, detail, when))
        if self:
            self._k2k_trigger_processing(at=min(self.mapped("next_attempt_date")))

    def _k2k_schedule_retry(self, error):
        """The partner could not be reached: keep the message queued and try
        again later, waiting twice as long after each attempt (capped).
        ``error`` holds the partner's words: cleaned, and recorded in a
        savepoint of its own (``_k2k_record_safely``)."""
        self.ensure_one()
        error = wire.clean_text(error)
        self._k2k_record_safely(
            lambda: self._k2k_postpone(error),
            lambda: self._k2k_postpone(
                self.env._("The partner gave an answer that cannot be stored.")
            ),
        )

    def _k2k_postpone(self, error):
        self.ensure_one()
        when = self._k2k_get_next_attempt_date()
        detail = self.env._(
            "Partner unreachable, next attempt at %(when)s (UTC).",
            when=fields.Datetime.to_string(when),
        )
        self.write(self._k2k_prepare_postponed_vals(error, detail, when))
        # The partner is down, not this message: its other messages wait as
        # long, without an attempt of their own.
        detail = self.state_detail
        self.search(
            [
                ("connection_id", "=", self.connection_id.id),
                ("state", "=", "queued"),
                ("id", "!=", self.id),
                "|",
                ("next_attempt_date", "=", False),
                ("next_attempt_date", "<", when),
            ]
        ).write({"next_attempt_date": when, "error": error, "state_detail": detail})
        self._k2k_trigger_processing(at=when)

    def _k2k_record_outcome(self, outcome):
        self.ensure_one()
        state = outcome["outcome"]
        # Each outcome ends an attempt: counted in the same write.
        # The detail and reference may be a partner's words.
        detail = wire.clean_text(outcome.get("detail")) or False
        vals = {
            "attempt_count": self.attempt_count + 1,
            "state": state,
            "state_detail": detail,
            "error": detail if state == "failed" else False,
            "date_done": fields.Datetime.now(),
            "next_attempt_date": False,
        }
        if outcome.get("reference"):
            vals["partner_reference"] = wire.clean_text(str(outcome["reference"]), 256)
        receipt = wire.read_receipt(outcome)
        if receipt is not None:
            vals["partner_receipt"] = receipt
        record = outcome.get("record")
        if record:
            # The receiver is in this database: link its record.
            vals.update(partner_res_model=record._name, partner_res_id=record.id)
        self.write(vals)
        self._k2k_get_adapter(self.message_type)._k2k_on_outcome(self, outcome)
