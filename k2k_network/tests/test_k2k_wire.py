# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The wire as an attacker sees it: where signed bodies may go, what an
answer must prove. The partners here are real HTTP servers on loopback
ports that behave badly on purpose."""

import json
import time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .. import wire
from .common import K2KCommon, make_remote_buyer_connection, serve_in_background
from .partner_double import PartnerDouble

SECRET = wire.new_secret()


class _Partner(PartnerDouble):
    """A partner's server; ``behaviour`` says how it answers."""

    behaviour = "signed"
    received = None  # the bodies it got
    kept = None  # an answer kept to be replayed

    def do_POST(self):  # noqa: N802 - the name http.server calls
        self.received.append((self.path, self.read_body()))
        if self.behaviour == "redirect":
            self.send_response(307)
            self.send_header("Location", self.server.k2k_redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        detail = "x" * 2_000_000 if self.behaviour == "huge" else "done"
        answer = json.dumps({"ok": True, "outcome": "applied", "detail": detail})
        answer = answer.encode()
        key = SECRET if self.behaviour != "forged" else wire.new_secret()
        headers = self.signed_headers(key, answer)
        if self.behaviour == "unsigned":
            headers = {}
        if self.behaviour == "replay":
            if self.kept is None:
                type(self).kept = headers
            headers = self.kept
        self.send_json(200, answer, headers)


@tagged("post_install", "-at_install")
class TestK2KWire(K2KCommon):
    def _partner(self, behaviour, redirect_to=""):
        handler = type("Handler", (_Partner,), {"behaviour": behaviour, "received": []})
        server, url = serve_in_background(self, handler)
        server.k2k_redirect_to = redirect_to
        return server, handler, url

    def _connection(self, url):
        return make_remote_buyer_connection(
            self.env, self.vendor_company, "Wire Buyer", url, SECRET
        )

    def _send_status(self, connection):
        message = connection._k2k_notify_partner()
        message._k2k_send()
        return message

    def test_partner_address_must_be_https(self):
        for url in (
            "http://erp.example.com",
            "http://10.0.0.5:8069",
            "ftp://erp.example.com",
            "https://user:pw@erp.example.com",
            "erp.example.com",
        ):
            with (
                self.subTest(url=url),
                self.assertRaisesRegex(ValidationError, "must start with https://"),
            ):
                self._connection(url)
        for url in ("https://erp.example.com", "http://127.0.0.1:8069", "http://[::1]"):
            with self.subTest(url=url):
                self.assertEqual(self._connection(url).remote_url, url)
                self.env["k2k.connection"].search([("remote_url", "=", url)]).unlink()

    def test_an_invitation_to_plain_http_is_refused(self):
        code = wire.encode_invitation(
            {
                "url": "http://erp.example.com",
                "database": "vendor_db",
                "uid": wire.new_uid(),
                "secret": wire.new_secret(),
                "role": "vendor",
                "company": "Remote Vendor",
                "expires": int(time.time()) + 3600,
            }
        )
        wizard = self.env["k2k.invitation.wizard"].create(
            {"invitation_code": code, "company_id": self.buyer_company.id}
        )
        with self.assertRaisesRegex(ValidationError, "must start with https://"):
            wizard.action_join()

    @mute_logger(
        "odoo.addons.k2k_network.models.k2k_message_delivery",
        "odoo.addons.k2k_network.models.k2k_transport_http",
    )
    def test_a_redirect_is_not_followed(self):
        _target, elsewhere, target_url = self._partner("signed")
        _server, redirector, url = self._partner("redirect", target_url)
        message = self._send_status(self._connection(url))
        self.assertEqual(len(redirector.received), 1)
        self.assertEqual(elsewhere.received, [], "the signed body went nowhere else")
        self.assertEqual(message.state, "queued", "tried again later")
        self.assertIn("HTTP 307", message.error)

    @mute_logger(
        "odoo.addons.k2k_network.models.k2k_message_delivery",
        "odoo.addons.k2k_network.models.k2k_transport_http",
    )
    def test_unsigned_forged_or_replayed_answers_are_not_trusted(self):
        for behaviour in ("unsigned", "forged"):
            with self.subTest(behaviour=behaviour):
                _server, _handler, url = self._partner(behaviour)
                message = self._send_status(self._connection(url))
                self.assertEqual(message.state, "queued")
                self.assertIn("not signed", message.error)
                message.connection_id.unlink()
        _server, replayer, url = self._partner("replay")
        connection = self._connection(url)
        first = self._send_status(connection)
        self.assertEqual(first.state, "applied", "the first answer is genuine")
        second = self._send_status(connection)
        self.assertEqual(len(replayer.received), 2)
        self.assertEqual(second.state, "queued", "an old answer proves nothing")
        self.assertIn("not signed", second.error)

    @mute_logger(
        "odoo.addons.k2k_network.models.k2k_message_delivery",
        "odoo.addons.k2k_network.models.k2k_transport_http",
    )
    def test_an_answer_above_the_cap_is_refused(self):
        _server, _handler, url = self._partner("huge")
        message = self._send_status(self._connection(url))
        self.assertEqual(message.state, "queued")
        self.assertIn("too large", message.error)

    def test_signature_covers_method_and_path(self):
        signed = ("db", "uid", "1700000000", "nonce", b"{}")
        signature = wire.sign(SECRET, "POST", wire.MESSAGE_PATH, *signed)
        self.assertTrue(
            wire.signature_matches(
                SECRET, signature, "POST", wire.MESSAGE_PATH, *signed
            )
        )
        for method, path in (
            ("PUT", wire.MESSAGE_PATH),
            ("POST", wire.HANDSHAKE_PATH),
            ("ANSWER 200", wire.MESSAGE_PATH),
        ):
            with self.subTest(method=method, path=path):
                self.assertFalse(
                    wire.signature_matches(SECRET, signature, method, path, *signed)
                )

    def test_no_request_leaves_for_a_neutralized_or_unsafe_address(self):
        connection = self._connection("https://erp.example.com")
        # Written past the constraint (SQL, an old version): still refused.
        self.env.cr.execute(
            "UPDATE k2k_connection SET remote_url = 'http://erp.example.com' "
            "WHERE id = %s",
            [connection.id],
        )
        connection.invalidate_recordset(["remote_url"])
        with self.assertRaisesRegex(UserError, "Cannot reach"):
            connection.action_k2k_refresh_status()
