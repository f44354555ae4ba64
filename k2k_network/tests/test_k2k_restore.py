# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Where the two sides of a connection between two databases stand, and a
side restored from a backup (k2k.remote.position). Here one side at a time,
the partner speaking through what its answers and requests carry; two real
servers and a real restore are in tests_integration/test_restore.py."""

from odoo.tests import tagged

from .. import wire
from .common import (
    K2KCommon,
    apply_envelope,
    make_remote_buyer_connection,
    make_remote_vendor_connection,
)


def _status(revision, **payload):
    return wire.build_envelope(
        "status",
        "status-doc",
        revision,
        dict({"state": "active", "settings": {}}, **payload),
    )


@tagged("post_install", "-at_install")
class TestK2KRestore(K2KCommon):
    def _vendor_side(self):
        return make_remote_buyer_connection(
            self.env,
            self.vendor_company,
            "Remote Buyer Co",
            "http://127.0.0.1:9",
            wire.new_secret(),
        )

    def _sent(self, connection, receipts, message_type="shipment", uid=None):
        """Messages of ``connection`` the partner applied, one per receipt."""
        return (
            self.env["k2k.message"]
            .sudo()
            .create(
                [
                    {
                        "name": f"sent {receipt}",
                        "connection_id": connection.id,
                        "message_type": message_type,
                        "document_uid": uid or wire.new_uid(),
                        "revision": 1,
                        "res_model": "stock.picking",
                        "res_id": 1,
                        "payload": {"order_uid": "o"},
                        "state": "applied",
                        "partner_receipt": receipt,
                    }
                    for receipt in receipts
                ]
            )
        )

    # -- the receiving side ------------------------------------------------------

    def test_a_side_numbers_what_it_applies_and_tells_where_it_stands(self):
        connection = make_remote_vendor_connection(
            self.env, self.buyer_company, "Remote Vendor Co", wire.new_secret()
        )
        Status = self.env["k2k.document.status"]
        self.assertEqual(
            Status._k2k_export_status_now(connection)["position"]["receipts"], 0
        )
        first = apply_envelope(connection, _status(1))
        second = apply_envelope(connection, _status(2))
        older = apply_envelope(connection, _status(1))
        self.assertEqual((first["receipt"], second["receipt"]), (1, 2))
        self.assertEqual(older["outcome"], "superseded")
        self.assertNotIn("receipt", older, "nothing changed here: nothing to lose")
        position = Status._k2k_export_status_now(connection)["position"]
        self.assertEqual(
            position,
            {"history": connection.history_uid, "receipts": 2, "since": 0},
        )
        self.assertIsNotNone(wire.read_position(position))
        self.assertNotIn("position", Status._k2k_export_status(connection))
        # In one database nothing is numbered: one side cannot be restored
        # without the other.
        local = self._create_connection()
        self._activate(local)
        self.assertIsNone(local._k2k_take_receipt())
        self.assertIsNone(local._k2k_get_position())

    # -- the sending side --------------------------------------------------------

    def test_a_partner_that_went_back_gets_again_what_it_lost(self):
        connection = self._vendor_side()
        kept = self._sent(connection, [1, 2])
        uid = wire.new_uid()
        older = self._sent(connection, [3], uid=uid)
        newer = self._sent(connection, [4], uid=uid)
        key = self._sent(connection, [5], message_type="keys")
        status = self._sent(connection, [6], message_type="status")
        history = wire.new_uid()
        connection._k2k_check_partner_position(wire.build_position(history, 6, 0))
        self.assertEqual(connection.partner_history_uid, history)
        self.assertTrue(connection.position_verified_date)
        self.assertEqual(set((kept | older | newer).mapped("state")), {"applied"})

        # Restored to the point where it had given receipt 2.
        notes = len(connection.message_ids)
        connection._k2k_check_partner_position(wire.build_position(history, 2, 0))
        self.assertEqual(set(kept.mapped("state")), {"applied"}, "it still has them")
        self.assertEqual(newer.state, "queued")
        self.assertIn("Sent again", newer.state_detail)
        self.assertEqual(status.state, "queued", "its newest status too")
        self.assertEqual(older.state, "applied", "the newer revision says it all")
        self.assertEqual(key.state, "applied", "a key change is never sent again")
        self.assertEqual(
            (older | newer | key | status).mapped("partner_receipt"), [0] * 4
        )
        self.assertEqual(len(connection.message_ids), notes + 1)
        self.assertIn("went back to an earlier point", connection.message_ids[0].body)

    def test_a_receipt_given_twice_is_a_partner_that_went_back(self):
        connection = self._vendor_side()
        history = wire.new_uid()
        connection._k2k_check_partner_position(wire.build_position(history, 0, 0))
        lost = self._sent(connection, [4, 5])
        # Its answer numbers a new envelope 3, and stands at 9 after the batch.
        connection._k2k_check_partner_position(
            wire.build_position(history, 9, 0), receipts=[3]
        )
        self.assertEqual(set(lost.mapped("state")), {"queued"})
        # A later receipt is just the next one.
        again = self._sent(connection, [10])
        connection._k2k_check_partner_position(
            wire.build_position(history, 11, 0), receipts=[11]
        )
        self.assertEqual(again.state, "applied")

    def test_a_partner_with_a_new_history_gets_what_it_had_since(self):
        connection = self._vendor_side()
        old_history = wire.new_uid()
        connection._k2k_check_partner_position(wire.build_position(old_history, 0, 0))
        kept = self._sent(connection, [1])
        lost = self._sent(connection, [2, 3])
        connection.remote_status_revision = 7
        new_history = wire.new_uid()
        # Told in its status message: only the history counts there.
        outcome = apply_envelope(
            connection,
            _status(1, position=wire.build_position(new_history, 1, 1)),
        )
        self.assertEqual(outcome["outcome"], "applied", "its statuses start again")
        self.assertEqual(connection.partner_history_uid, new_history)
        self.assertEqual(kept.state, "applied")
        self.assertEqual(set(lost.mapped("state")), {"queued"})

    def test_a_position_from_a_request_does_not_compare_receipts(self):
        connection = self._vendor_side()
        history = wire.new_uid()
        connection._k2k_check_partner_position(wire.build_position(history, 0, 0))
        recorded = self._sent(connection, [5])
        # The status left before receipt 5 was given: not a restore.
        apply_envelope(
            connection, _status(1, position=wire.build_position(history, 4, 0))
        )
        self.assertEqual(recorded.state, "applied")

    def test_a_garbled_position_changes_nothing(self):
        connection = self._vendor_side()
        history = wire.new_uid()
        connection._k2k_check_partner_position(wire.build_position(history, 5, 0))
        sent = self._sent(connection, [5])
        for garbled in (
            "position",
            None,
            {"history": history},
            {"history": history, "receipts": -1},
            {"history": history, "receipts": True},
            {"history": history, "receipts": 2.5},
            {"history": history, "receipts": 2**60},
            {"history": "../../etc", "receipts": 0},
            {"history": history.upper(), "receipts": 0},
            {"history": history, "receipts": 0, "since": "0"},
            {"history": history, "receipts": 0, "evil": 1},
        ):
            connection._k2k_check_partner_position(garbled)
            self.assertEqual(sent.state, "applied", garbled)
            self.assertEqual(connection.partner_history_uid, history, garbled)
        with self.assertRaises(wire.EnvelopeError) as refused:
            apply_envelope(
                connection, _status(1, position={"history": 1, "receipts": 0})
            )
        self.assertEqual(refused.exception.code, wire.ERROR_INVALID_VALUE)
        self.assertEqual(sent.state, "applied")

    # -- a database that finds it was restored ------------------------------------

    def test_a_restored_database_begins_a_new_history_and_tells_its_partners(self):
        connection = self._vendor_side()
        Connection = self.env["k2k.connection"]
        Connection._k2k_check_database_identity()
        params = self.env["ir.config_parameter"].sudo()
        self.assertTrue(params.get_param("k2k_network.database_oid"))
        before = connection._k2k_get_position()
        Connection._k2k_check_database_identity()
        self.assertEqual(connection.history_uid, before["history"], "the same database")

        params.set_param("k2k_network.database_oid", "1")  # restored: another oid
        Connection._k2k_check_database_identity()
        self.assertNotEqual(connection.history_uid, before["history"])
        self.assertIn("restored from a backup", connection.message_ids[0].body)
        told = self.env["k2k.message"].search([("connection_id", "=", connection.id)])
        self.assertEqual(told.mapped("message_type"), ["status"])
        envelope = told._k2k_get_envelope()
        self.assertEqual(
            envelope["payload"]["position"]["history"], connection.history_uid
        )
        self.assertNotIn("position", told.payload, "told as it leaves, not kept")

    def test_a_neutralized_copy_begins_nothing(self):
        connection = self._vendor_side()
        history = connection._k2k_get_position()["history"]
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("k2k_network.database_oid", "1")
        params.set_param("database.is_neutralized", True)
        self.env["k2k.connection"]._k2k_check_database_identity()
        self.assertEqual(connection.history_uid, history)
        self.assertEqual(params.get_param("k2k_network.database_oid"), "1")
