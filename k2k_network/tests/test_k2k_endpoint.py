# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The receiving endpoint through Odoo's real HTTP stack (the partner's
server is the subject of tests_integration/test_remote_network.py)."""

from unittest.mock import patch

from odoo.tests import HttpCase, tagged

from .. import wire
from ..controllers.main import K2KController
from .common import make_remote_vendor_connection, signed_body


@tagged("post_install", "-at_install")
class TestK2KEndpoint(HttpCase):
    def setUp(self):
        super().setUp()
        company = self.env["res.company"].create({"name": "K2K Endpoint Buyer"})
        self.secret = wire.new_secret()
        self.connection = make_remote_vendor_connection(
            self.env, company, "Far Vendor", self.secret
        )

    def _post(self, envelope, database=None):
        body, headers = signed_body(
            self, self.connection, self.secret, wire.MESSAGE_PATH, envelope, database
        )
        return self.url_open(wire.MESSAGE_PATH, data=body, headers=headers)

    def _status(self, revision=1):
        return wire.build_envelope(
            "status",
            "status-doc",
            revision,
            {"state": "active", "company": "Far Vendor", "settings": {}},
        )

    def _requests(self):
        return self.env["k2k.request"].search(
            [("connection_id", "=", self.connection.id)]
        )

    def test_serialization_failure_retry_reads_the_same_body(self):
        """Odoo runs a request's handler again after a serialization
        failure: the second run must see the same body, and nothing of the
        first run may stay."""
        calls = []
        handle = K2KController._k2k_handle_message

        def conflicting_once(controller, connection, envelope):
            calls.append(envelope["revision"])
            if len(calls) == 1:
                connection.env.cr.execute(
                    "DO $$ BEGIN RAISE EXCEPTION 'concurrent update' "
                    "USING ERRCODE = 'serialization_failure'; END $$"
                )
            return handle(controller, connection, envelope)

        with patch.object(K2KController, "_k2k_handle_message", conflicting_once):
            response = self._post(self._status())
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["outcome"], "applied")
        # Run again (Odoo may retry more than once), with the same envelope.
        self.assertGreaterEqual(len(calls), 2)
        self.assertEqual(set(calls), {1})
        self.assertEqual(self._requests().mapped("status_code"), [200])
        self.assertEqual(self.connection.remote_status_revision, 1)

    def test_wrong_database_is_refused_without_naming_one(self):
        response = self._post(self._status(), database="someone_elses_db")
        self.assertEqual(response.status_code, 421)
        reason = response.json()["reason"]
        self.assertNotIn(self.env.cr.dbname, reason)
        self.assertNotIn("someone_elses_db", reason)

    def test_a_flood_of_refusals_makes_one_line(self):
        for _attempt in range(5):
            body, headers = signed_body(
                self,
                self.connection,
                wire.new_secret(),  # not the connection's: refused
                wire.MESSAGE_PATH,
                self._status(),
            )
            response = self.url_open(wire.MESSAGE_PATH, data=body, headers=headers)
            self.assertEqual(response.status_code, 401)
        refusals = self._requests()
        self.assertEqual(len(refusals), 1)
        self.assertEqual(refusals.count, 5)
        self.assertEqual(refusals.error_code, "bad_signature")

    def test_a_body_above_the_cap_is_refused(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "k2k_network.max_request_bytes", "100"
        )
        # A little above: the addon's own refusal, logged.
        response = self._post(
            wire.build_envelope("status", "s", 1, {"company": "x" * 500})
        )
        self.assertEqual(response.status_code, 413)
        self.assertEqual(response.json()["error"], "body_too_large")
        self.assertTrue(
            self.env["k2k.request"].search([("error_code", "=", "body_too_large")])
        )
        # Far above: the route refuses it before Odoo reads the body.
        response = self._post(
            wire.build_envelope("status", "s", 1, {"company": "x" * 1_100_000})
        )
        self.assertEqual(response.status_code, 413)
        self.assertNotIn(b"body_too_large", response.content)

    def test_a_request_under_a_history_not_heard_at_the_address_waits_for_it(self):
        """A request naming a history of the partner its address has not
        answered under is refused until the address is asked; the refusal
        keeps the question and, signed, tells where this side stands."""
        known = wire.new_uid()
        self.connection.sudo().partner_history_uid = known
        envelope = dict(self._status(), position=wire.build_position(wire.new_uid(), 0))
        response = self._post(envelope)
        self.assertEqual(response.status_code, 409, response.text)
        answer = response.json()
        self.assertEqual(answer["error"], wire.ERROR_HISTORY_UNCONFIRMED)
        self.assertEqual(
            answer["status"]["position"]["history"], self.connection.history_uid
        )
        self.assertEqual(
            self.connection.partner_history_asked, envelope["position"]["history"]
        )
        self.assertEqual(self.connection.remote_status_revision, 0, "nothing taken")
        asked = self.env["k2k.message"].search(
            [
                ("connection_id", "=", self.connection.id),
                ("message_type", "=", "status"),
            ]
        )
        self.assertEqual(len(asked), 1)
        # The address answers under the known history: a copy, refused for
        # good; the original goes on.
        self.connection._k2k_check_answered_position(
            wire.build_position(known, 0), status_applied=True
        )
        response = self._post(dict(envelope, revision=2))
        self.assertEqual(response.json()["error"], wire.ERROR_COPIED_DATABASE)
        response = self._post(
            dict(self._status(3), position=wire.build_position(known, 0))
        )
        self.assertEqual(response.json()["outcome"], "applied", response.text)
        self.assertEqual(self.connection.remote_status_revision, 3)
