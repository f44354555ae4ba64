# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a slow, failing, fickle or heavy partner can cost: a deadline for
each whole exchange, a partner that keeps failing left alone for a while,
messages sent again later each time a partner flips a switch back on, and
held revisions and files kept out of the bill and capped."""

import base64
import time
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .. import wire
from .common import (
    K2KCommon,
    apply_envelope,
    make_company_user,
    make_remote_buyer_connection,
    queue_status_messages,
    serve_in_background,
)
from .common_flow import K2KFlowCommon
from .partner_double import PartnerDouble

SECRET = wire.new_secret()
MUTED = (
    "odoo.addons.k2k_network.models.k2k_message_delivery",
    "odoo.addons.k2k_network.models.k2k_transport_http",
)


class _Partner(PartnerDouble):
    """A partner's server: "healthy" applies every message, "failing"
    answers 502, "trickling" sends its answer a byte every 0.2 s."""

    behaviour = "healthy"
    received = None

    def do_POST(self):  # noqa: N802 - the name http.server calls
        body = self.read_body()
        self.received.append(self.path)
        if self.behaviour == "failing":
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.behaviour == "trickling":
            self.trickle(400, 0.2, sent=200)
            return
        self.answer_outcome(SECRET, body, {"outcome": "applied", "detail": "Taken."})


@tagged("post_install", "-at_install")
class TestK2KPartnerLimits(K2KCommon):
    def _partner(self, name, behaviour):
        handler = type("Handler", (_Partner,), {"behaviour": behaviour, "received": []})
        _server, url = serve_in_background(self, handler)
        connection = make_remote_buyer_connection(
            self.env, self.vendor_company, name, url, SECRET
        )
        return connection, handler

    @mute_logger(*MUTED)
    def test_a_trickling_answer_ends_at_the_deadline(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "k2k_network.http_timeout", "2"
        )
        connection, _handler = self._partner("Trickling Buyer", "trickling")
        message = queue_status_messages(self.env, connection, 1)
        start = time.monotonic()
        self.env["k2k.message"]._cron_process_messages()
        elapsed = time.monotonic() - start
        # Each byte comes well within a read timeout of 2 s; the whole
        # answer would take 40 s.
        self.assertLess(elapsed, 15, "the whole exchange, not each read, is bounded")
        self.assertEqual(message.state, "queued")
        self.assertIn("timed out", message.error)

    def _fail_until_paused(self, connection, message):
        """Send ``message`` until its partner is left alone; return the
        number of attempts."""
        for attempt in range(1, 6):
            message.write({"next_attempt_date": False})
            self.env["k2k.message"]._cron_process_messages()
            if connection.delivery_paused_until:
                return attempt
        self.fail("a partner failing five times in a row is still tried")

    @mute_logger(*MUTED)
    def test_a_failing_partner_is_left_alone_and_costs_the_others_nothing(self):
        failing, failing_server = self._partner("Failing Buyer", "failing")
        healthy, _healthy_server = self._partner("Healthy Buyer", "healthy")
        stuck = queue_status_messages(self.env, failing, 1)
        attempts = self._fail_until_paused(failing, stuck)
        self.assertEqual(attempts, 3)
        self.assertEqual(failing.delivery_failures, 3)
        pause = failing.delivery_paused_until - fields.Datetime.now()
        self.assertAlmostEqual(pause.total_seconds(), 240, delta=10)
        self.assertIn("3 times in a row", failing.message_ids[0].body)
        posted = len(failing_server.received)

        # Paused: neither the scheduled action nor a user's "Send Now" (a
        # confirmation that sends at once) tries it, and the healthy
        # partner's messages go in the same run.
        stuck.write({"next_attempt_date": False})
        fresh = queue_status_messages(self.env, failing, 1)
        sane = queue_status_messages(self.env, healthy, 3)
        self.env["k2k.message"]._cron_process_messages()
        notice = fresh.action_process_now()
        self.assertEqual(notice["params"]["type"], "warning")
        self.assertIn("Failing Buyer", notice["params"]["message"])
        self.assertEqual(len(failing_server.received), posted, "not tried")
        self.assertTrue(failing.delivery_paused)
        self.assertEqual(set((stuck | fresh).mapped("state")), {"queued"})
        self.assertEqual(set(sane.mapped("state")), {"applied"})

        # The pause over, one more failure doubles it.
        failing.delivery_paused_until = fields.Datetime.now() - timedelta(seconds=1)
        self.env["k2k.message"]._cron_process_messages()
        self.assertEqual(len(failing_server.received), posted + 1)
        pause = failing.delivery_paused_until - fields.Datetime.now()
        self.assertAlmostEqual(pause.total_seconds(), 480, delta=10)

        # The partner is back: an administrator sends to it now, and its
        # answer closes the pause.
        failing_server.behaviour = "healthy"
        failing.with_user(self.vendor_admin).action_k2k_resume_deliveries()
        self.env["k2k.message"]._cron_process_messages()
        self.assertEqual(set((stuck | fresh).mapped("state")), {"applied"})
        self.assertFalse(failing.delivery_paused_until)
        self.assertFalse(failing.delivery_paused)
        self.assertEqual(failing.delivery_failures, 0)

    @mute_logger(*MUTED)
    def test_only_an_administrator_ends_a_pause(self):
        failing, _server = self._partner("Failing Buyer", "failing")
        stuck = queue_status_messages(self.env, failing, 1)
        self._fail_until_paused(failing, stuck)
        until = failing.delivery_paused_until
        buyer_of_vendor = make_company_user(
            self.env,
            "k2k_pause_purchaser",
            self.vendor_company,
            "purchase.group_purchase_user,account.group_account_invoice",
        )
        as_user = failing.with_user(buyer_of_vendor)
        with self.assertRaises(AccessError):
            as_user.action_k2k_resume_deliveries()
        # The pause's fields are read-only in the form, and not writable
        # over RPC either.
        with self.assertRaises(AccessError):
            as_user.write({"delivery_paused_until": False, "delivery_failures": 0})
        self.assertEqual(failing.delivery_paused_until, until)
        self.assertEqual(failing.delivery_failures, 3)
        self.assertTrue(stuck.next_attempt_date)

    def test_messages_go_again_later_each_time_a_partner_flips_its_switch(self):
        connection, _server = self._partner("Fickle Buyer", "healthy")
        waiting = queue_status_messages(self.env, connection, 2, state="waiting")
        Status = self.env["k2k.document.status"]
        on = {"settings": dict.fromkeys(wire.AUTOMATION_KEYS, True)}
        off = {"settings": dict.fromkeys(wire.AUTOMATION_KEYS, False)}
        Status._k2k_store_partner_status(connection, off)
        delays = []
        for _flip in range(4):
            before = fields.Datetime.now()
            Status._k2k_store_partner_status(connection, on)
            self.assertEqual(set(waiting.mapped("state")), {"queued"})
            due = waiting[0].next_attempt_date
            delays.append(round((due - before).total_seconds()) if due else 0)
            # The next answer turns it off again: the messages wait again.
            Status._k2k_store_partner_status(connection, off)
            waiting.write({"state": "waiting"})
        self.assertEqual(delays[0], 0, "the first time, at once")
        self.assertAlmostEqual(delays[1], 60, delta=3)
        self.assertAlmostEqual(delays[2], 120, delta=3)
        self.assertAlmostEqual(delays[3], 240, delta=3)


@tagged("post_install", "-at_install")
class TestK2KHeldRevisions(K2KFlowCommon):
    def test_a_held_revision_is_never_read_with_its_bill(self):
        _po, invoice, bill = self._full_flow()
        bill.action_k2k_approve()
        bill.action_post()
        self._revise(invoice, 0.70)
        self._process(pdf=True)
        self.assertTrue(bill.k2k_changed_after_booking)
        # What any code going through bills does: read a field of theirs,
        # and Odoo reads their other columns with it.
        self.env.invalidate_all()
        bills = self.env["account.move"].search([("id", "=", bill.id)])
        self.assertEqual(bills.mapped("k2k_pending_revision"), [2])
        field = bills._fields["k2k_pending_envelope"]
        self.assertFalse(
            self.env.cache.contains(bills, field), "the held PDFs were not loaded"
        )
        held = bill._k2k_get_pending_envelope()
        self.assertEqual(held["revision"], 2)
        self.assertTrue(held["attachments"], "it carries the new PDF")
        bill.action_k2k_apply_vendor_changes()
        self.assertEqual(bill.k2k_revision, 2)
        self.assertAlmostEqual(bill.amount_untaxed, invoice.amount_untaxed)
        self.assertFalse(bill.k2k_pending_envelope)

    def test_revisions_and_files_past_the_limits_are_refused(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("k2k_network.max_revisions", "2")
        _po, invoice, bill = self._full_flow()
        self._revise(invoice, 0.70)
        self._process()
        self.assertEqual(bill.k2k_revision, 2)
        self._revise(invoice, 0.65)
        self._process()
        message = invoice.k2k_message_ids.sorted("id")[-1]
        self.assertEqual(message.state, "failed")
        self.assertIn("at most 2 revisions", message.error)
        self.assertEqual(bill.k2k_revision, 2, "the bill is left as it was")

        params.set_param("k2k_network.max_revisions", "100")
        params.set_param("k2k_network.max_document_mb", "1")
        big = {"name": "annex.pdf", "mimetype": "application/pdf"}
        big["datas"] = base64.b64encode(b"%PDF-1.4 " + b"0" * 1_100_000).decode()
        envelope = message._k2k_get_envelope()
        envelope["revision"] = 4
        envelope["attachments"] = [big]
        receiver = self.connection._k2k_as_receiver(self.buyer)
        with self.assertRaisesRegex(Exception, "more than 1 MB"):
            apply_envelope(receiver, envelope)
