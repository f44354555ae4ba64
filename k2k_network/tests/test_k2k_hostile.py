# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a hostile partner can no longer cost everybody: texts that would
abort a whole run, guarded fields set through the context, refused requests
replayed, and our outbound address chosen by the partner."""

from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .. import wire, wire_values
from ..controllers.main import K2KController
from .common import (
    K2KCommon,
    add_company_users,
    make_remote_buyer_connection,
    make_remote_vendor_connection,
    queue_status_messages,
    serve_in_background,
    signed_body,
)
from .common_flow import K2KFlowCommon
from .partner_double import PartnerDouble

SECRET = wire.new_secret()
NASTY = "x\u0000y\u0007\ud800z"


class _Partner(PartnerDouble):
    """A partner's server: ``healthy`` applies every message (signed
    answers, a reference with a control character in it), otherwise it
    answers 502 with a NUL byte in its reason, before any signature."""

    healthy = True
    received = None

    def do_POST(self):  # noqa: N802 - the name http.server calls
        body = self.read_body()
        self.received.append(self.path)
        if not self.healthy:
            self.send_json(502, {"ok": False, "reason": NASTY * 2000})
            return
        outcome = {
            "outcome": "applied",
            "detail": "took\u0000 it",
            "reference": "R\x01EF",
        }
        self.answer_outcome(SECRET, body, outcome)


def _clean(text):
    return not any(
        (ord(char) < 32 and char not in "\n\t\r") or 0xD800 <= ord(char) <= 0xDFFF
        for char in text
    )


@tagged("post_install", "-at_install")
class TestK2KHostilePartnerTexts(K2KCommon):
    def _partner(self, name, healthy):
        handler = type("Handler", (_Partner,), {"healthy": healthy, "received": []})
        _server, url = serve_in_background(self, handler)
        return make_remote_buyer_connection(
            self.env, self.vendor_company, name, url, SECRET
        )

    @mute_logger(
        "odoo.addons.k2k_network.models.k2k_message_delivery",
        "odoo.addons.k2k_network.models.k2k_transport_http",
    )
    def test_a_partner_error_text_stops_no_one_else(self):
        # One message each goes alone (the message endpoint), three go in
        # one batch: both paths meet the bad partner's answer.
        for count in (1, 3):
            with self.subTest(count=count):
                healthy = self._partner(f"Healthy Buyer {count}", True)
                bad = self._partner(f"Bad Buyer {count}", False)
                sane = queue_status_messages(self.env, healthy, count)
                hurt = queue_status_messages(self.env, bad, count)
                (hurt | sane).sorted("id")._k2k_send()
                self.env.flush_all()  # what the cron's commit would do
                self.assertEqual(set(sane.mapped("state")), {"applied"})
                self.assertEqual(set(sane.mapped("partner_reference")), {"REF"})
                self.assertTrue(all(_clean(m.state_detail) for m in sane))
                self.assertEqual(set(hurt.mapped("state")), {"queued"})
                for message in hurt:
                    self.assertIn("502", message.error)
                    self.assertIn("xyz", message.error, "cleaned, not lost")
                    self.assertTrue(_clean(message.error))
                    self.assertLess(len(message.error), 5000, "capped")

    def test_texts_from_a_partner_are_cleaned_and_capped(self):
        self.assertEqual(wire_values.clean_text("a\u0000b\tc\nd\x1f\x7f"), "ab\tc\nd")
        self.assertEqual(wire_values.clean_text("\ud800ok"), "ok")
        self.assertLessEqual(len(wire_values.clean_text("x" * 100_000)), 4096)
        self.assertEqual(
            wire_values.clean_received({"a\x00": ["b\x00", 3, {"c": "d\x00"}]}),
            {"a": ["b", 3, {"c": "d"}]},
        )

    def test_a_payload_text_with_a_nul_byte_is_refused(self):
        envelope = wire.build_envelope(
            "status", "s", 1, {"state": "active", "company": "Evil\u0000 Corp"}
        )
        with self.assertRaisesRegex(wire.EnvelopeError, "company"):
            wire.check_payload(envelope)


@tagged("post_install", "-at_install")
class TestK2KGuardedDefaults(K2KFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        add_company_users(
            cls,
            cls.buyer,
            billing_user="account.group_account_invoice",
            purchase_user="purchase.group_purchase_user",
        )

    def test_a_billing_user_cannot_approve_a_bill_through_the_context(self):
        Move = (
            self.env["account.move"]
            .with_user(self.billing_user)
            .with_context(allowed_company_ids=self.buyer.ids)
            .with_context(
                default_k2k_approval_state="approved",
                default_k2k_updated_by_vendor=True,
            )
        )
        bill = Move.create(
            {
                "move_type": "in_invoice",
                "partner_id": self.connection.vendor_partner_id.id or self.partner_a.id,
                "invoice_line_ids": [
                    (0, 0, {"name": "Roses", "quantity": 10, "price_unit": 0.75})
                ],
            }
        )
        self.assertFalse(bill.k2k_approval_state)
        self.assertFalse(bill.k2k_updated_by_vendor)
        # Said plainly, it is refused as before.
        with self.assertRaises(AccessError):
            Move.create({"move_type": "in_invoice", "k2k_approval_state": "approved"})

    def test_a_purchase_user_cannot_set_the_vendor_answer_through_the_context(self):
        order = (
            self.env["purchase.order"]
            .with_user(self.purchase_user)
            .with_context(allowed_company_ids=self.buyer.ids)
            .with_context(
                default_k2k_vendor_state="confirmed", default_is_k2k_order=True
            )
            .create(
                {
                    "partner_id": self.partner_a.id,
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": self.buyer_rose.id,
                                "product_qty": 12,
                                "price_unit": 0.72,
                            },
                        )
                    ],
                }
            )
        )
        self.assertFalse(order.k2k_vendor_state)
        self.assertFalse(order.is_k2k_order)

    def test_an_administrator_still_may(self):
        bill = (
            self.env["account.move"]
            .with_company(self.buyer)
            .with_context(default_k2k_approval_state="pending")
            .create({"move_type": "in_invoice", "partner_id": self.partner_a.id})
        )
        self.assertEqual(bill.k2k_approval_state, "pending")


@tagged("post_install", "-at_install")
class TestK2KReplayAfterRefusal(HttpCase):
    def setUp(self):
        super().setUp()
        company = self.env["res.company"].create({"name": "K2K Replay Buyer"})
        self.secret = wire.new_secret()
        self.connection = make_remote_vendor_connection(
            self.env, company, "Replay Vendor", self.secret
        )

    def _signed(self, envelope):
        return signed_body(
            self, self.connection, self.secret, wire.MESSAGE_PATH, envelope
        )

    @mute_logger("odoo.addons.k2k_network.controllers.main")
    def test_a_refused_request_cannot_be_replayed(self):
        self.connection.state = "draft"
        self.env.flush_all()
        body, headers = self._signed(
            wire.build_envelope(
                "status", "st", 1, {"state": "suspended", "company": "Replay Vendor"}
            )
        )
        response = self.url_open(wire.MESSAGE_PATH, data=body, headers=headers)
        self.assertEqual(response.status_code, 409, response.text)
        self.assertEqual(response.json()["error"], wire.ERROR_NOT_ACTIVE)
        self.connection.state = "active"
        self.env.flush_all()
        response = self.url_open(wire.MESSAGE_PATH, data=body, headers=headers)
        self.assertEqual(response.status_code, 409, response.text)
        self.assertEqual(response.json()["error"], "replayed_request")
        self.connection.invalidate_recordset()
        self.assertEqual(self.connection.remote_status_revision, 0, "never applied")
        self.assertEqual(self.connection.state, "active")

    @mute_logger("odoo.addons.k2k_network.controllers.main")
    def test_a_malformed_signed_request_cannot_be_replayed_either(self):
        envelope = wire.build_envelope("status", "st", 1, {"state": "bogus"})
        body, headers = self._signed(envelope)
        first = self.url_open(wire.MESSAGE_PATH, data=body, headers=headers)
        self.assertEqual(first.status_code, 400, first.text)
        again = self.url_open(wire.MESSAGE_PATH, data=body, headers=headers)
        self.assertEqual(again.json()["error"], "replayed_request")


@tagged("post_install", "-at_install")
class TestK2KAnonymousRequests(HttpCase):
    @mute_logger("odoo.addons.k2k_network.controllers.main", "odoo.http")
    def test_a_request_without_k2k_headers_is_refused_before_its_body_is_read(self):
        read = []
        original = K2KController._k2k_read_body

        def reading(controller, env):
            read.append(True)
            return original(controller, env)

        with patch.object(K2KController, "_k2k_read_body", reading):
            response = self.url_open(
                wire.MESSAGE_PATH,
                data=b'{"padding": "' + b"x" * 500_000 + b'"}',
                headers={"Content-Type": "application/json"},
            )
            # Refused by Odoo itself: no byte of the body is taken.
            self.assertEqual(response.status_code, 413)
            response = self.url_open(wire.MESSAGE_PATH, data={"padding": "x" * 500_000})
            self.assertEqual(response.status_code, 413)
            # Without a body: the addon's own refusal.
            response = self.opener.post(
                self.base_url() + wire.MESSAGE_PATH, data=b"", timeout=12
            )
            self.assertEqual(response.status_code, 401)
            self.assertEqual(response.json()["error"], "unsigned")
        self.assertEqual(read, [], "no body read")


@tagged("post_install", "-at_install")
class TestK2KRefusalLog(K2KCommon):
    def _committed_refusal(self, vals):
        with self.registry.cursor() as cr:
            line = api.Environment(cr, SUPERUSER_ID, {})["k2k.request"].create(vals)
            # Another request's line, which this test's transaction cannot see
            # nor hold: committed, and removed at the end.
            cr.commit()  # pylint: disable=invalid-commit
            line_id = line.id

        def remove():
            with self.registry.cursor() as cr:
                cr.execute("DELETE FROM k2k_request WHERE id = %s", [line_id])

        self.addCleanup(remove)
        return line_id

    def _log_in_a_request_of_its_own(self, vals):
        """What another request, in its own transaction, logs; return the
        lines of that refusal it sees then."""
        with self.registry.cursor() as cr:
            cr.execute("SET LOCAL lock_timeout = '3s'")
            Request = api.Environment(cr, SUPERUSER_ID, {})["k2k.request"]
            Request._k2k_log_refusal(dict(vals))
            lines = Request.search([("remote_addr", "=", vals["remote_addr"])])
            counts = sorted(lines.mapped("count"))
            cr.rollback()
        return counts

    def test_refusals_in_parallel_never_wait_for_each_other(self):
        vals = {
            "endpoint": wire.MESSAGE_PATH,
            "remote_addr": "198.51.100.7",
            "status_code": 404,
            "error_code": "unknown_connection",
            "reason": "Unknown connection.",
        }
        line_id = self._committed_refusal(vals)
        # Alone: counted on the line.
        self.assertEqual(self._log_in_a_request_of_its_own(vals), [2])
        # The line held by a request in flight: a line of its own, at once.
        with self.registry.cursor() as holder:
            holder.execute(
                "UPDATE k2k_request SET count = count + 1 WHERE id = %s", [line_id]
            )
            self.assertEqual(self._log_in_a_request_of_its_own(vals), [1, 1])
            holder.rollback()


@tagged("post_install", "-at_install")
class TestK2KPartnerAddress(K2KCommon):
    def test_a_partner_address_is_https_without_path_or_query(self):
        for url in (
            "https://erp.example.com/k2k",
            "https://erp.example.com/?next=/web",
            "https://erp.example.com#frag",
            "https://user@erp.example.com",
            "http://127.0.0.1:8069",
            # Names no resolver can be asked (an empty or too long label).
            "https://erp..example.com",
            "https://" + "a" * 64 + ".example.com",
        ):
            with self.subTest(url=url):
                self.assertFalse(wire.check_partner_url(url))
        for url in ("https://erp.example.com", "https://erp.example.com:8443/"):
            with self.subTest(url=url):
                self.assertTrue(wire.check_partner_url(url))
        # Plain http to this machine only when told so explicitly.
        self.assertTrue(wire.check_partner_url("http://127.0.0.1:8069", True))
        self.assertFalse(wire.check_partner_url("http://10.0.0.5:8069", True))
        self.assertFalse(wire.check_partner_url("http://127.0.0.1:8069/x", True))

    def test_plain_http_needs_the_switch(self):
        params = self.env["ir.config_parameter"].sudo()
        connection = make_remote_buyer_connection(
            self.env, self.vendor_company, "Plain", "https://buyer.example.com", SECRET
        )
        params.set_param("k2k_network.allow_http", "")
        with self.assertRaises(ValidationError):
            connection.remote_url = "http://127.0.0.1:8069"
        params.set_param("k2k_network.allow_http", "1")
        connection.remote_url = "http://127.0.0.1:8069"
        self.assertEqual(connection.remote_url, "http://127.0.0.1:8069")

    def _invited(self, url):
        vendor = self.env["res.partner"].create({"name": "Joining Vendor"})
        connection = self.env["k2k.connection"].create(
            {
                "transport": "http",
                "local_role": "buyer",
                "buyer_company_id": self.buyer_company.id,
                "vendor_partner_id": vendor.id,
                "remote_url": url,
            }
        )
        connection.with_user(self.buyer_admin).action_k2k_create_invitation()
        return connection

    def _join(self, connection, url):
        return connection._k2k_accept_remote_handshake(
            {
                "role": "vendor",
                "url": url,
                "database": "vendor_db",
                "company": "Joining\u0000 Vendor",
                "accepted_by": "Mallory\u0007",
                "key": wire.new_secret(),
                "status": {"state": "active", "company": "Joining Vendor"},
            }
        )

    def test_a_partner_cannot_move_our_outbound_address(self):
        connection = self._invited("https://vendor.example.com")
        self._join(connection, "https://elsewhere.example.com")
        self.assertEqual(connection.state, "active")
        self.assertEqual(connection.remote_url, "https://vendor.example.com")
        self.assertEqual(connection.remote_url_pending, "https://elsewhere.example.com")
        self.assertTrue(_clean(connection.remote_company_name))
        self.assertTrue(_clean(connection.remote_accepted_by))
        clerk = new_test_user(
            self.env,
            login="k2k_hostile_clerk",
            groups="base.group_user,account.group_account_invoice",
            company_id=self.buyer_company.id,
            company_ids=[(6, 0, self.buyer_company.ids)],
        )
        with self.assertRaises(AccessError):
            connection.with_user(clerk).action_k2k_confirm_remote_url()
        connection.with_user(self.buyer_admin).action_k2k_confirm_remote_url()
        self.assertEqual(connection.remote_url, "https://elsewhere.example.com")
        self.assertFalse(connection.remote_url_pending)

    def test_an_unsafe_address_from_a_partner_is_refused(self):
        self.env["ir.config_parameter"].sudo().set_param("k2k_network.allow_http", "")
        for url in (
            "http://127.0.0.1:6379",
            "https://vendor.example.com/admin?x=1",
            "https://vendor.example.com\u0000",
        ):
            with self.subTest(url=url):
                connection = self._invited(False)
                with self.assertRaises(UserError):
                    self._join(connection, url)
                self.assertFalse(connection.remote_url)
