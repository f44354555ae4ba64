# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Invitation codes and keys, through Odoo's real HTTP stack: a code works
once and not after its expiry, the handshake gives one key per direction,
and a key change is agreed over the wire while messages keep going."""

import json
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from .. import wire
from .common import allow_plain_http, answer_is_signed, signed_body


@tagged("post_install", "-at_install")
class TestK2KKeys(HttpCase):
    def setUp(self):
        super().setUp()
        allow_plain_http(self.env)
        self.company = self.env["res.company"].create({"name": "K2K Keys Vendor"})
        self.buyer_partner = self.env["res.partner"].create(
            {"name": "Far Buyer", "is_company": True}
        )
        self.connection = self.env["k2k.connection"].create(
            {
                "transport": "http",
                "local_role": "vendor",
                "vendor_company_id": self.company.id,
                "buyer_partner_id": self.buyer_partner.id,
            }
        )

    # -- helpers -------------------------------------------------------------

    def _post(self, path, data, key, database=None):
        body, headers = signed_body(self, self.connection, key, path, data, database)
        response = self.url_open(path, data=body, headers=headers)
        self.connection.invalidate_recordset()
        return response, headers

    def _handshake(self, key, database="far_buyer_db", secret=None):
        return self._post(
            wire.HANDSHAKE_PATH,
            {
                "role": "buyer",
                "url": "http://127.0.0.1:9",
                "database": database,
                "company": "Far Buyer",
                "accepted_by": "Bea",
                "key": key,
                "status": {"state": "active", "company": "Far Buyer", "settings": {}},
            },
            secret or self.connection.invitation_secret,
        )

    def _status(self, key, revision):
        envelope = wire.build_envelope(
            "status", "far-status", revision, {"state": "active", "settings": {}}
        )
        return self._post(wire.MESSAGE_PATH, envelope, key)[0]

    def _keys_message(self, key, revision, signed_with):
        envelope = wire.build_envelope("keys", "far-keys", revision, {"key": key})
        return self._post(wire.MESSAGE_PATH, envelope, signed_with)[0]

    def _invite(self):
        self.connection.action_k2k_create_invitation()
        return self.connection.invitation_secret

    def _active(self):
        self._invite()
        buyer_key = wire.new_secret()
        response, _headers = self._handshake(buyer_key)
        self.assertEqual(response.status_code, 200, response.text)
        return buyer_key, response.json()["key"]

    # -- invitation ------------------------------------------------------------

    def test_handshake_gives_one_key_per_direction_and_closes_the_code(self):
        secret = self._invite()
        code = wire.decode_invitation(self.connection.invitation_code)
        self.assertEqual(code["secret"], secret)
        expiry = self.connection.invitation_expiry
        self.assertAlmostEqual(
            expiry, fields.Datetime.now() + timedelta(days=7), delta=timedelta(hours=1)
        )
        self.assertEqual(code["expires"], int(expiry.timestamp()))

        buyer_key = wire.new_secret()
        response, headers = self._handshake(buyer_key)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertTrue(
            answer_is_signed(
                self, self.connection, secret, wire.HANDSHAKE_PATH, headers, response
            ),
            "the answer is signed with the invitation secret",
        )
        our_key = response.json()["key"]
        connection = self.connection
        self.assertEqual(connection.state, "active")
        self.assertEqual(connection.outbound_key, buyer_key)
        self.assertEqual(connection.inbound_key, our_key)
        self.assertTrue(wire.is_key(our_key))
        self.assertNotIn(our_key, (buyer_key, secret), "one key per direction")
        self.assertFalse(connection.invitation_code, "a used code is not shown")

        # The buyer's answer may have been lost: it joins again with the
        # same key (made from its own secret) and gets the same answer.
        response, _headers = self._handshake(buyer_key)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["key"], our_key)
        # Whoever else holds the code, naming the same database or not,
        # neither learns our key nor replaces the buyer's.
        for database in ("far_buyer_db", "thief_db"):
            response, _headers = self._handshake(wire.new_secret(), database=database)
            self.assertEqual(response.status_code, 422)
            self.assertIn("already been used", response.json()["reason"])
            self.assertNotIn(our_key, response.text)
        self.assertEqual(connection.outbound_key, buyer_key)

        # The invitation secret signs no message.
        self.assertEqual(self._status(secret, 1).status_code, 401)
        # The buyer's first message with our key closes the invitation.
        self.assertEqual(self._status(our_key, 2).status_code, 200)
        self.assertFalse(connection.invitation_secret)
        response, _headers = self._handshake(wire.new_secret(), secret=secret)
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["error"], "no_invitation")

    def test_an_expired_code_is_refused(self):
        self._invite()
        self.connection.invitation_expiry = fields.Datetime.now() - timedelta(minutes=1)
        response, _headers = self._handshake(wire.new_secret())
        self.assertEqual(response.status_code, 410)
        self.assertEqual(response.json()["error"], "invitation_expired")
        self.assertEqual(self.connection.state, "draft")
        self.assertFalse(self.connection.outbound_key)

    def test_a_new_code_replaces_the_one_before(self):
        old_secret = self._invite()
        new_secret = self._invite()
        self.assertNotEqual(old_secret, new_secret)
        response, _headers = self._handshake(wire.new_secret(), secret=old_secret)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(self.connection.state, "draft")

    def test_a_partner_without_a_key_cannot_join(self):
        self._invite()
        response, _headers = self._handshake(None)
        self.assertEqual(response.status_code, 422)
        self.assertIn("no valid key", response.json()["reason"])
        self.assertEqual(self.connection.state, "draft")

    # -- key change, received ------------------------------------------------

    def test_the_partner_changes_the_keys(self):
        buyer_key, our_key = self._active()
        self._status(our_key, 1)
        partner_new_key = wire.new_secret()
        response = self._keys_message(partner_new_key, 1, signed_with=our_key)
        self.assertEqual(response.status_code, 200, response.text)
        our_new_key = response.json()["key"]
        connection = self.connection
        self.assertNotIn(our_new_key, (our_key, buyer_key, partner_new_key))
        self.assertEqual(connection.inbound_key, our_new_key)
        self.assertEqual(connection.outbound_key, partner_new_key)
        status = self.env["k2k.message"].search(
            [("connection_id", "=", connection.id), ("message_type", "=", "status")]
        )
        self.assertEqual(status.state, "queued", "our next message uses its key")
        self.assertNotIn(our_new_key, json.dumps(status.payload or {}))

        # The partner's answer may have been lost: the same message again
        # (still signed with the old key) gets the same key back.
        response = self._keys_message(partner_new_key, 1, signed_with=our_key)
        self.assertEqual(response.json()["key"], our_new_key)
        self.assertEqual(self._status(our_key, 2).status_code, 200, "old key still")
        self.assertEqual(self._status(our_new_key, 3).status_code, 200)
        self.assertFalse(connection.key_change_pending)
        response = self._status(our_key, 4)
        self.assertEqual(response.status_code, 401, "the old key is gone")

    def test_the_old_key_cannot_ask_for_the_new_one(self):
        _buyer_key, our_key = self._active()
        self._status(our_key, 1)
        self.connection.action_k2k_rotate_keys()
        new_key = self.connection.inbound_key
        outbound = self.connection.outbound_key
        # Whoever holds the old key (a partner changing keys at the same
        # time, or a thief) asks for a key change with it.
        response = self._keys_message(wire.new_secret(), 1, signed_with=our_key)
        self.assertEqual(response.status_code, 409, response.text)
        self.assertEqual(response.json()["error"], "key_change_crossing")
        self.assertNotIn(new_key, response.text)
        self.assertEqual(self.connection.outbound_key, outbound)
        self.assertEqual(self.connection.inbound_key, new_key)

    # -- key change, asked here ------------------------------------------------

    def test_an_administrator_changes_the_keys(self):
        buyer_key, our_key = self._active()
        self._status(our_key, 1)
        user = new_test_user(
            self.env,
            "k2k_keys_manager",
            groups="purchase.group_purchase_manager,account.group_account_manager",
            company_id=self.company.id,
        )
        with self.assertRaises(AccessError):
            self.connection.with_user(user).action_k2k_rotate_keys()
        with self.assertRaises(AccessError):
            self.connection.with_user(user).write({"outbound_key": wire.new_secret()})

        self.connection.action_k2k_rotate_keys()
        connection = self.connection
        new_key = connection.inbound_key
        self.assertNotEqual(new_key, our_key)
        self.assertTrue(connection.key_change_pending)
        message = self.env["k2k.message"].search(
            [("connection_id", "=", connection.id), ("message_type", "=", "keys")]
        )
        self.assertNotIn(new_key, json.dumps(message.payload or {}), "not logged")
        self.assertEqual(message._k2k_get_envelope()["payload"]["key"], new_key)
        with self.assertRaisesRegex(UserError, "A key change is under way"):
            connection.action_k2k_rotate_keys()
        # Both keys are taken until the partner signs with the new one.
        self.assertEqual(self._status(our_key, 2).status_code, 200)
        self.assertTrue(connection.key_change_pending)

        partner_key = wire.new_secret()
        message._k2k_record_outcome({"outcome": "applied", "key": partner_key})
        self.assertEqual(connection.outbound_key, partner_key)
        self.assertNotEqual(partner_key, buyer_key)
        self.assertEqual(self._status(new_key, 3).status_code, 200)
        self.assertFalse(connection.key_change_pending)
        self.assertEqual(self._status(our_key, 4).status_code, 401)

    def test_an_administrator_revokes_the_previous_key(self):
        _buyer_key, our_key = self._active()
        self.connection.action_k2k_rotate_keys()
        self.assertEqual(self._status(our_key, 1).status_code, 200, "still taken")
        user = new_test_user(
            self.env,
            "k2k_keys_purchaser",
            groups="purchase.group_purchase_manager",
            company_id=self.company.id,
        )
        with self.assertRaises(AccessError):
            self.connection.with_user(user).action_k2k_revoke_previous_key()
        self.connection.action_k2k_revoke_previous_key()
        self.assertFalse(self.connection.key_change_pending)
        self.assertEqual(self._status(our_key, 2).status_code, 401, "refused now")
        self.assertEqual(self._status(self.connection.inbound_key, 3).status_code, 200)
        with self.assertRaisesRegex(UserError, "No key change is under way"):
            self.connection.action_k2k_revoke_previous_key()

    def test_a_refused_key_change_keeps_the_old_key(self):
        _buyer_key, our_key = self._active()
        self.connection.action_k2k_rotate_keys()
        message = self.env["k2k.message"].search(
            [
                ("connection_id", "=", self.connection.id),
                ("message_type", "=", "keys"),
            ]
        )
        # A failure of ours proves nothing: both keys stay taken.
        new_key = self.connection.inbound_key
        message._k2k_record_outcome({"outcome": "failed", "detail": "a crash"})
        self.assertEqual(self.connection.inbound_key, new_key)
        self.assertTrue(self.connection.key_change_pending)
        # The partner's signed refusal: it never took the new key.
        message._k2k_record_outcome(
            {"outcome": "failed", "refused": True, "detail": "unknown type"}
        )
        self.assertEqual(self.connection.inbound_key, our_key)
        self.assertFalse(self.connection.key_change_pending)
