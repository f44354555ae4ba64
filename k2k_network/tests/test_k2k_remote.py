# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A connection whose partner lives in another database, seen from this one.

The partner's server is the subject of tests_integration/test_remote_network.py
(two real servers); here the partner is either absent (a closed loopback
port: real HTTP, refused) or speaks through the apply methods its endpoint
calls.
"""

import contextlib
import socket
import threading
import time
from datetime import timedelta
from http.server import ThreadingHTTPServer

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import file_open, mute_logger

from .. import wire
from .common import K2KCommon
from .partner_double import PartnerDouble


def _closed_port_url():
    """The address of a loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class _OddPartner(PartnerDouble):
    """A partner's web server that is not a K2K endpoint: it answers HTML,
    or answers too late."""

    delay = 0

    def do_POST(self):  # noqa: N802 - the name http.server calls
        self.read_body()
        time.sleep(self.delay)
        body = b"<html><body>Welcome to nginx!</body></html>"
        # When the sender gave up waiting, writing fails: nothing to do.
        with contextlib.suppress(OSError):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


def _odd_partner(delay=0):
    """A real HTTP server on a loopback port, in a thread; return it and its
    address."""
    handler = type("Handler", (_OddPartner,), {"delay": delay})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@tagged("post_install", "-at_install")
class TestK2KRemote(K2KCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.remote_buyer = cls.env["res.partner"].create(
            {"name": "Remote Buyer Co", "is_company": True}
        )
        cls.remote_vendor = cls.env["res.partner"].create(
            {"name": "Remote Vendor Co", "is_company": True}
        )
        cls.env["ir.config_parameter"].sudo().set_param(
            "k2k_network.retry_base_seconds", "60"
        )

    def _vendor_side(self, **vals):
        """Our vendor company, its buyer in another database, active."""
        connection = self.env["k2k.connection"].create(
            {
                "transport": "http",
                "local_role": "vendor",
                "vendor_company_id": self.vendor_company.id,
                "buyer_partner_id": self.remote_buyer.id,
                "remote_url": _closed_port_url(),
                "remote_database": "buyer_db",
                "remote_company_name": "Remote Buyer Co",
                "connection_uid": wire.new_nonce(),
                "inbound_key": wire.new_secret(),
                "outbound_key": wire.new_secret(),
                **vals,
            }
        )
        connection.state = "active"
        return connection

    # -- shape -----------------------------------------------------------------

    def test_one_side_here_the_other_there(self):
        Connection = self.env["k2k.connection"]
        with self.assertRaisesRegex(ValidationError, "which side our company is"):
            Connection.create(
                {"transport": "http", "vendor_company_id": self.vendor_company.id}
            )
        with self.assertRaisesRegex(ValidationError, "leave the buyer company empty"):
            Connection.create(
                {
                    "transport": "http",
                    "local_role": "vendor",
                    "vendor_company_id": self.vendor_company.id,
                    "buyer_company_id": self.buyer_company.id,
                }
            )
        connection = self._vendor_side()
        self.assertEqual(connection.name, "K2K Test Vendor → Remote Buyer Co")
        with self.assertRaisesRegex(UserError, "invitation code"):
            connection.action_accept_as_buyer()

    def test_invitation_code_carries_what_the_partner_needs(self):
        connection = self.env["k2k.connection"].create(
            {
                "transport": "http",
                "local_role": "vendor",
                "vendor_company_id": self.vendor_company.id,
                "buyer_partner_id": self.remote_buyer.id,
            }
        )
        connection.with_user(self.vendor_admin).action_k2k_create_invitation()
        self.assertEqual(connection.state, "draft", "the partner has not joined yet")
        self.assertEqual(connection.vendor_accepted_by_id, self.vendor_admin)
        data = wire.decode_invitation(connection.invitation_code)
        self.assertEqual(data["role"], "vendor")
        self.assertEqual(data["company"], "K2K Test Vendor")
        self.assertEqual(data["database"], self.env.cr.dbname)
        self.assertEqual(data["uid"], connection.connection_uid)
        self.assertEqual(data["secret"], connection.invitation_secret)
        self.assertIsNone(wire.decode_invitation("K2K1.bm90IGpzb24"))
        self.assertIsNone(wire.decode_invitation("hello"))

    def _join(self, code):
        wizard = self.env["k2k.invitation.wizard"].create(
            {
                "invitation_code": code,
                "company_id": self.buyer_company.id,
                "partner_id": self.remote_vendor.id,
            }
        )
        return wizard.action_join()

    def test_join_refuses_bad_codes_and_unreachable_partners(self):
        Connection = self.env["k2k.connection"]
        with self.assertRaisesRegex(UserError, "not a K2K invitation code"):
            self._join("hello")
        code = wire.encode_invitation(
            {
                "url": _closed_port_url(),
                "database": "vendor_db",
                "uid": wire.new_nonce(),
                "secret": wire.new_secret(),
                "role": "vendor",
                "company": "Remote Vendor Co",
                "expires": int(time.time()) + 3600,
            }
        )
        with self.assertRaisesRegex(UserError, "Cannot reach Remote Vendor Co"):
            self._join(code)
        data = dict(wire.decode_invitation(code), expires=int(time.time()) - 60)
        with self.assertRaisesRegex(UserError, "This invitation code expired on"):
            self._join(wire.encode_invitation(data))
        self.assertFalse(Connection.search([("transport", "=", "http")]))

    # -- the partner's switches come from the partner ----------------------------

    def test_status_is_what_the_partner_told(self):
        connection = self._vendor_side()
        self.vendor_company.k2k_invoice_sync_enabled = True
        self.assertEqual(
            connection.invoice_sync_status,
            "Waiting for Remote Buyer Co to allow automatic upload.",
            "nothing told yet: nothing assumed",
        )
        waiting = self.env["k2k.message"].create(
            {
                "name": "INV/1",
                "connection_id": connection.id,
                "message_type": "invoice",
                "document_uid": "x/account.move/1",
                "state": "waiting",
            }
        )
        self.env["k2k.document.status"]._k2k_apply(
            connection,
            {
                "revision": 1,
                "payload": {
                    "state": "active",
                    "company": "Remote Buyer Co",
                    "settings": {"invoice_upload_enabled": True},
                },
            },
        )
        self.assertTrue(connection.buyer_invoice_upload_enabled)
        self.assertTrue(connection.invoice_sync_in_effect)
        self.assertEqual(waiting.state, "queued", "the buyer said yes: it goes again")
        outcome = self.env["k2k.document.status"]._k2k_apply(
            connection, {"revision": 1, "payload": {"settings": {}}}
        )
        self.assertEqual(outcome["outcome"], "superseded")
        self.assertTrue(connection.buyer_invoice_upload_enabled)

    def test_partner_suspends_and_resumes(self):
        connection = self._vendor_side()
        self.env["k2k.document.status"]._k2k_apply(
            connection, {"revision": 1, "payload": {"state": "suspended"}}
        )
        self.assertEqual(connection.state, "suspended")
        self.assertTrue(connection.remote_suspended)
        with self.assertRaisesRegex(UserError, "only Remote Buyer Co can resume"):
            connection.action_resume()
        self.env["k2k.document.status"]._k2k_apply(
            connection, {"revision": 2, "payload": {"state": "active"}}
        )
        self.assertEqual(connection.state, "active")
        self.assertFalse(connection.remote_suspended)

    def test_switching_an_automation_tells_remote_partners(self):
        connection = self._vendor_side()
        self.vendor_company.k2k_invoice_sync_enabled = True
        status = self.env["k2k.message"].search(
            [("connection_id", "=", connection.id), ("message_type", "=", "status")]
        )
        self.assertEqual(len(status), 1)
        self.assertEqual(status.state, "queued")
        self.assertTrue(status.payload["settings"]["invoice_sync_enabled"])
        self.vendor_company.k2k_invoice_sync_enabled = False
        self.assertEqual(status.state, "superseded", "only the latest status travels")

    # -- faults: the partner down ------------------------------------------------

    @mute_logger("odoo.addons.k2k_network.models.k2k_message")
    def test_partner_down_message_stays_queued_with_backoff(self):
        connection = self._vendor_side()
        self.vendor_company.k2k_invoice_sync_enabled = True
        message = self.env["k2k.message"].search(
            [("connection_id", "=", connection.id), ("state", "=", "queued")]
        )
        self.assertEqual(len(message), 1)
        before = fields.Datetime.now()
        self.env["k2k.message"]._cron_process_messages()
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.attempt_count, 1)
        self.assertIn("Cannot reach Remote Buyer Co", message.error)
        first_delay = (message.next_attempt_date - before).total_seconds()
        self.assertAlmostEqual(first_delay, 60, delta=5)
        # Not due yet: the scheduled action leaves it alone.
        self.env["k2k.message"]._cron_process_messages()
        self.assertEqual(message.attempt_count, 1)
        # Due: tried again, and the next wait is twice as long.
        message.next_attempt_date = fields.Datetime.now() - timedelta(seconds=1)
        before = fields.Datetime.now()
        self.env["k2k.message"]._cron_process_messages()
        self.assertEqual(message.attempt_count, 2)
        second_delay = (message.next_attempt_date - before).total_seconds()
        self.assertAlmostEqual(second_delay, 120, delta=5)
        # By hand: at once.
        message.action_retry()
        self.assertFalse(message.next_attempt_date)
        self.assertFalse(message.error)

    @mute_logger("odoo.addons.k2k_network.models.k2k_message")
    def test_partner_answering_garbage_or_too_late_keeps_it_queued(self):
        # The sender's own deadline (its HTTP client is not the requests
        # library, whose timeouts Odoo's test mode raises to 10 s): it waits
        # 3 s, the slow partner answers after 6.
        self.env["ir.config_parameter"].sudo().set_param(
            "k2k_network.http_timeout", "3"
        )
        for delay, expected in (
            (0, "gave no K2K answer (HTTP 200)"),
            (6, "timed out"),
        ):
            with self.subTest(delay=delay):
                server, url = _odd_partner(delay)
                self.addCleanup(server.shutdown)
                connection = self._vendor_side(remote_url=url)
                connection._k2k_notify_partner()
                message = self.env["k2k.message"].search(
                    [("connection_id", "=", connection.id), ("state", "=", "queued")]
                )
                self.env["k2k.message"]._cron_process_messages()
                self.assertEqual(message.state, "queued", "kept for a later attempt")
                self.assertEqual(message.attempt_count, 1)
                self.assertIn(expected, message.error)
                self.assertTrue(message.next_attempt_date)

    @mute_logger("odoo.addons.k2k_network.models.k2k_message")
    def _order_to_unreachable_vendor(self):
        """A K2K order confirmed while its vendor cannot be reached; return
        the connection, the order and its queued message."""
        connection = self.env["k2k.connection"].create(
            {
                "transport": "http",
                "local_role": "buyer",
                "buyer_company_id": self.buyer_company.id,
                "vendor_partner_id": self.remote_vendor.id,
                "remote_url": _closed_port_url(),
                "remote_database": "vendor_db",
                "remote_company_name": "Remote Vendor Co",
                "connection_uid": wire.new_nonce(),
                "inbound_key": wire.new_secret(),
                "outbound_key": wire.new_secret(),
            }
        )
        connection.state = "active"
        product = self.env["product.product"].create(
            {
                "name": "Red Rose",
                "type": "consu",
                "company_id": self.buyer_company.id,
                "seller_ids": [
                    Command.create(
                        {
                            "partner_id": self.remote_vendor.id,
                            "product_code": "V-1",
                            "company_id": self.buyer_company.id,
                        }
                    )
                ],
            }
        )
        order = (
            self.env["purchase.order"]
            .with_company(self.buyer_company)
            .create(
                {
                    "partner_id": self.remote_vendor.id,
                    "company_id": self.buyer_company.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_qty": 3})
                    ],
                }
            )
        )
        order.button_confirm()
        message = self.env["k2k.message"].search(
            [("res_model", "=", "purchase.order"), ("res_id", "=", order.id)]
        )
        return connection, order, message

    def test_k2k_order_to_an_unreachable_vendor_waits_in_the_queue(self):
        connection, order, message = self._order_to_unreachable_vendor()
        self.assertEqual(order.state, "purchase", "the buyer is not held up")
        self.assertEqual(order.k2k_connection_id, connection)
        self.assertFalse(order.k2k_sale_order_ref)
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.payload["lines"][0]["vendor_code"], "V-1")
        self.assertTrue(message.next_attempt_date)
        self.assertIn("cannot be reached now", order.message_ids[0].body)
        # The vendor answers later, from the queue: the order is linked then.
        message._k2k_record_outcome(
            {"outcome": "applied", "detail": "ok", "reference": "S00077"}
        )
        self.assertEqual(order.k2k_sale_order_ref, "S00077")

    def test_a_cancellation_never_overtakes_the_order_it_cancels(self):
        connection, order, message = self._order_to_unreachable_vendor()
        self.assertEqual(message.state, "queued")
        postponed_until = message.next_attempt_date
        order.button_cancel()
        messages = self.env["k2k.message"].search(
            [("connection_id", "=", connection.id)], order="id"
        )
        self.assertEqual(messages.mapped("message_type"), ["order", "order_cancel"])
        cancel = messages[1]
        # One message of the document is left to go, and it closes the
        # revision the order opened: the vendor never gets them crossed.
        self.assertEqual(message.state, "superseded")
        self.assertEqual(cancel.state, "queued")
        self.assertEqual(
            (cancel.document_uid, cancel.revision),
            (message.document_uid, message.revision),
        )
        # The partner is still down: the cancellation waits as long.
        self.assertGreaterEqual(cancel.next_attempt_date, postponed_until)
        attempts = cancel.attempt_count
        cancel._k2k_send()
        self.assertEqual(cancel.state, "queued", "a retry later, not a failure")
        self.assertEqual(cancel.attempt_count, attempts + 1)

    # -- a neutralized copy ---------------------------------------------------------

    def test_neutralized_copy_talks_to_no_partner(self):
        connection = self._vendor_side()
        local = self._create_connection()
        self._activate(local)
        sql = file_open("k2k_network/data/neutralize.sql").read()
        self.env.flush_all()
        self.env.cr.execute(sql)
        self.env["ir.config_parameter"].sudo().set_param(
            "database.is_neutralized", True
        )
        self.env.invalidate_all()
        self.assertEqual(connection.state, "suspended", "remote: suspended")
        self.assertFalse(connection.inbound_key or connection.outbound_key)
        self.assertEqual(local.state, "active", "one database: nothing to fear")
        # Even resumed by hand, nothing goes out.
        connection.state = "active"
        self.vendor_company.k2k_invoice_sync_enabled = True
        status = self.env["k2k.message"].search(
            [("connection_id", "=", connection.id), ("state", "=", "queued")]
        )
        status._k2k_send()
        self.assertEqual(status.state, "waiting")
        self.assertIn("neutralized copy", status.state_detail)
        self.assertEqual(status.attempt_count, 1)
        with self.assertRaisesRegex(UserError, "neutralized copy"):
            connection._k2k_http_post(wire.HANDSHAKE_PATH, {})
