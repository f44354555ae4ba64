# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Where the two sides of a connection between two databases stand, and a
side restored from a backup (k2k.remote.position). Here one side at a time,
the partner speaking through what its answers and requests carry; two real
servers and a real restore are in tests_integration/test_restore.py."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .. import wire
from .common import (
    K2KCommon,
    apply_envelope,
    invoice_envelope,
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
            "no partner history known yet: nothing seen of it",
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

    def _told_history(self, connection, position):
        """The code of the refusal of a request telling ``position``, or
        ``None``. (Not ``assertRaises``: it would roll back what the
        refusal keeps.)"""
        try:
            connection._k2k_check_told_history(position)
        except wire.Refused as refused:
            return refused.error
        return None

    def _answered(self, connection, history, receipts, since=0, given=()):
        connection._k2k_check_answered_position(
            wire.build_position(history, receipts, since), given
        )

    def test_a_partner_that_went_back_gets_again_what_it_lost(self):
        connection = self._vendor_side()
        kept = self._sent(connection, [1, 2])
        uid = wire.new_uid()
        older = self._sent(connection, [3], uid=uid)
        newer = self._sent(connection, [4], uid=uid)
        key = self._sent(connection, [5], message_type="keys")
        status = self._sent(connection, [6], message_type="status")
        history = wire.new_uid()
        self._answered(connection, history, 6)
        self.assertEqual(connection.partner_history_uid, history)
        self.assertTrue(connection.position_verified_date)
        self.assertEqual(set((kept | older | newer).mapped("state")), {"applied"})

        # Restored to the point where it held receipt 2, its history kept.
        notes = len(connection.message_ids)
        self._answered(connection, history, 2)
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
        self.assertIn("went back to a backup", connection.message_ids[0].body)

    def test_a_lost_document_goes_again_even_when_its_next_revision_failed(self):
        connection = self._vendor_side()
        history = wire.new_uid()
        self._answered(connection, history, 0)
        uid = wire.new_uid()
        applied = self._sent(connection, [1], uid=uid)
        refused = self._sent(connection, [0], uid=uid)
        refused.state = "failed"
        waiting_uid = wire.new_uid()
        lost = self._sent(connection, [2], uid=waiting_uid)
        waiting = self._sent(connection, [0], uid=waiting_uid)
        waiting.state = "waiting"
        self._answered(connection, history, 0)
        self.assertEqual(applied.state, "queued", "the partner holds nothing of it")
        self.assertEqual(lost.state, "applied", "its newer revision goes anyway")

    def test_a_receipt_given_twice_is_a_partner_that_went_back(self):
        connection = self._vendor_side()
        history = wire.new_uid()
        self._answered(connection, history, 0)
        lost = self._sent(connection, [4, 5])
        # Its answer numbers a new envelope 3, and stands at 9 after the batch.
        self._answered(connection, history, 9, given=[3])
        self.assertEqual(set(lost.mapped("state")), {"queued"})
        # A later receipt is just the next one.
        again = self._sent(connection, [10])
        self._answered(connection, history, 11, given=[11])
        self.assertEqual(again.state, "applied")

    def test_a_partner_with_a_new_history_gets_what_it_had_since(self):
        connection = self._vendor_side()
        self._answered(connection, wire.new_uid(), 0)
        kept = self._sent(connection, [1])
        lost = self._sent(connection, [2, 3])
        connection.remote_status_revision = 7
        # Told in its request, a new history is asked at the partner's
        # address first: the request is refused meanwhile, and tried again.
        restored = wire.build_position(wire.new_uid(), 1, 1)
        self.assertEqual(
            self._told_history(connection, restored), wire.ERROR_HISTORY_UNCONFIRMED
        )
        self.assertIn(wire.ERROR_HISTORY_UNCONFIRMED, wire.RETRY_ERRORS)
        self.assertEqual(connection.partner_restart_count, 0)
        asked = self.env["k2k.message"].search(
            [("connection_id", "=", connection.id), ("message_type", "=", "status")]
        )
        self.assertEqual(len(asked), 1, "the address is asked")
        # The address answers under it: a restore.
        connection._k2k_check_answered_position(restored)
        self.assertFalse(connection.partner_history_asked)
        self.assertIsNone(self._told_history(connection, restored))
        self.assertEqual(connection.partner_restart_count, 1)
        self.assertEqual(kept.state, "applied")
        self.assertEqual(set(lost.mapped("state")), {"queued"})
        outcome = apply_envelope(connection, _status(1))
        self.assertEqual(outcome["outcome"], "applied", "its statuses start again")

    def test_a_partner_flipping_histories_is_not_followed(self):
        connection = self._vendor_side()
        first, second, third = wire.new_uid(), wire.new_uid(), wire.new_uid()
        self._answered(connection, first, 0)
        sent = self._sent(connection, [1, 2])
        self._answered(connection, second, 2, since=2)
        self.assertEqual(connection.partner_history_uid, second)
        # An older transaction of the partner, or a copy, names the history
        # it left, with since 0: not followed, nothing sent again.
        self._answered(connection, first, 2)
        self._answered(connection, third, 2)  # a third within minutes
        self.assertEqual(connection.partner_history_uid, second)
        self.assertEqual(connection.partner_restart_count, 1)
        self.assertEqual(set(sent.mapped("state")), {"applied"})
        # A since above the receipts it holds cannot be.
        connection.partner_history_date = fields.Datetime.now() - timedelta(hours=1)
        self._answered(connection, third, 2, since=5)
        self.assertEqual(connection.partner_history_uid, second)
        self._answered(connection, third, 2, since=0)
        self.assertEqual(connection.partner_history_uid, third)
        self.assertEqual(set(sent.mapped("state")), {"queued"})

    def test_a_partner_that_tells_no_position_ends_the_check(self):
        connection = self._vendor_side()
        connection.position_check_pending = True
        connection._k2k_check_answered_position(None)
        self.assertFalse(connection.position_check_pending)

    def test_receipts_told_in_a_request_are_not_compared(self):
        connection = self._vendor_side()
        history = wire.new_uid()
        self._answered(connection, history, 0)
        recorded = self._sent(connection, [5])
        verified = connection.position_verified_date
        # The request left before receipt 5 was given: not a restore.
        connection._k2k_check_told_position(wire.build_position(history, 4, 0))
        self.assertEqual(recorded.state, "applied")
        self.assertEqual(connection.position_verified_date, verified)

    def test_a_garbled_position_changes_nothing(self):
        connection = self._vendor_side()
        history = wire.new_uid()
        self._answered(connection, history, 5)
        sent = self._sent(connection, [5])
        for garbled in (
            "position",
            None,
            {"history": history},
            {"history": history, "receipts": -1},
            {"history": history, "receipts": True},
            {"history": history, "receipts": 2.5},
            {"history": history, "receipts": 2**31},
            {"history": "../../etc", "receipts": 0},
            {"history": history.upper(), "receipts": 0},
            {"history": history, "receipts": 0, "since": "0"},
            {"history": history, "receipts": 0, "seen_in": "x", "seen": 1},
            {"history": history, "receipts": 0, "evil": 1},
        ):
            connection._k2k_check_answered_position(garbled)
            connection._k2k_check_told_position(garbled)
            # Nor is anything asked or refused for it.
            self.assertIsNone(self._told_history(connection, garbled), garbled)
            self.assertFalse(connection.partner_history_asked, garbled)
            self.assertEqual(sent.state, "applied", garbled)
            self.assertEqual(connection.partner_history_uid, history, garbled)

    # -- a side that went back -----------------------------------------------------

    def test_a_side_told_it_holds_less_than_the_partner_saw_begins_a_new_history(
        self,
    ):
        connection = make_remote_vendor_connection(
            self.env, self.buyer_company, "Remote Vendor Co", wire.new_secret()
        )
        partner = wire.new_uid()
        connection._k2k_check_told_position(wire.build_position(partner, 0))
        for revision in (1, 2, 3):
            apply_envelope(connection, _status(revision))
        history = connection.history_uid
        # The partner saw receipt 3 of this history: this side holds it.
        told = wire.build_position(partner, 0, 0, 3, history)
        connection._k2k_check_told_position(told)
        self.assertEqual(connection.history_uid, history)
        # Of another history of ours: not ours to compare.
        connection._k2k_check_told_position(
            wire.build_position(partner, 0, 0, 9, wire.new_uid())
        )
        self.assertEqual(connection.history_uid, history)
        # The backup held receipt 1 only (and it is not the database the
        # connection was in: the partner tells it first).
        self.env["k2k.received"].search(
            [("connection_id", "=", connection.id)]
        ).receipt = 1
        connection.database_oid = "1"
        connection._k2k_check_told_position(told)
        self.assertNotEqual(connection.history_uid, history)
        self.assertEqual(connection.history_since, 1)
        # Begun in this database: its new identity begins no second one.
        history = connection.history_uid
        self.env["k2k.connection"]._k2k_check_database_identity()
        self.assertEqual(connection.history_uid, history)
        self.assertIn("restored from a backup", connection.message_ids[0].body)
        status = self.env["k2k.message"].search(
            [("connection_id", "=", connection.id), ("message_type", "=", "status")]
        )
        self.assertEqual(len(status), 1, "the partner hears it at once")
        position = self.env["k2k.document.status"]._k2k_export_status_now(connection)[
            "position"
        ]
        self.assertEqual(
            (position["history"], position["since"]), (connection.history_uid, 1)
        )
        # An answer compares with the receipts ever given (the sequence).
        # (Minutes later: a side begins no two histories within minutes.)
        history = connection.history_uid
        connection._k2k_check_answered_position(
            wire.build_position(partner, 0, 0, 4, history)
        )
        self.assertEqual(connection.history_uid, history, "not twice in minutes")
        connection.history_date = fields.Datetime.now() - timedelta(minutes=11)
        connection._k2k_check_answered_position(
            wire.build_position(partner, 0, 0, 3, history)
        )
        self.assertEqual(connection.history_uid, history, "receipt 3 was given")
        connection._k2k_check_answered_position(
            wire.build_position(partner, 0, 0, 4, history)
        )
        self.assertNotEqual(connection.history_uid, history)

    def test_where_a_history_began_is_told_only_in_the_partner_s_history_then(
        self,
    ):
        connection = self._vendor_side()
        partner = wire.new_uid()
        self._answered(connection, partner, 0)
        self._sent(connection, [1, 2])
        connection.database_oid = "1"
        self.env["k2k.connection"]._k2k_check_database_identity()
        position = connection._k2k_get_position()
        self.assertEqual((position["seen_in"], position["since_seen"]), (partner, 2))
        # The partner restored too, and this side follows its new history:
        # receipts 2 of the one before number nothing there.
        restored = wire.new_uid()
        connection.partner_history_date = False
        self._answered(connection, restored, 0)
        self.assertEqual(connection.partner_history_uid, restored)
        position = connection._k2k_get_position()
        self.assertEqual(position["seen_in"], restored)
        self.assertNotIn("since_seen", position)

    def test_a_database_with_another_identity_checks_with_its_partners(self):
        connection = self._vendor_side()
        Connection = self.env["k2k.connection"]
        self.assertEqual(connection.database_oid, Connection._k2k_get_database_oid())
        Connection._k2k_check_database_identity()
        Message = self.env["k2k.message"]
        self.assertFalse(Message.search([("connection_id", "=", connection.id)]))

        connection.database_oid = "1"  # made in another database: restored
        # Even minutes after a history began (a copy made right after a
        # restore): found here, not told by the partner.
        connection.history_date = fields.Datetime.now()
        history = connection.history_uid
        Connection._k2k_check_database_identity()
        self.assertEqual(connection.database_oid, Connection._k2k_get_database_oid())
        told = Message.search([("connection_id", "=", connection.id)])
        self.assertEqual(told.mapped("message_type"), ["status"])
        # A new history at once: a copy must not speak under the original's.
        self.assertNotEqual(connection.history_uid, history)
        self.assertIn(
            "restored from a backup, moved or copied", connection.message_ids[0].body
        )
        self.assertTrue(connection.position_check_pending)
        # Until the partner answers, only the status goes: a document sent
        # now would carry revisions the partner may hold already.
        document = self._sent(connection, [0])
        document.state = "queued"
        (told | document)._k2k_send()
        self.assertEqual(document.state, "queued")
        self.assertTrue(document.next_attempt_date)
        self.assertEqual(told.attempt_count, 1, "the status was tried")
        self._answered(connection, wire.new_uid(), 0)
        self.assertFalse(connection.position_check_pending)
        self.assertFalse(document.next_attempt_date, "it goes now")

    def test_a_copy_of_the_partner_running_elsewhere_is_refused(self):
        connection = self._vendor_side()
        original = wire.new_uid()
        self._answered(connection, original, 3)
        sent = self._sent(connection, [1, 2, 3])
        copy = wire.build_position(wire.new_uid(), 3, 3)
        for _attempt in range(2):
            self.assertEqual(
                self._told_history(connection, copy), wire.ERROR_HISTORY_UNCONFIRMED
            )
        Message = self.env["k2k.message"]
        asked = Message.search(
            [("connection_id", "=", connection.id), ("message_type", "=", "status")]
        )
        self.assertEqual(len(asked), 1, "asked once, not at each attempt")
        # An answer that applied no status of ours may have been made
        # before the partner committed a new history: it says nothing.
        self._answered(connection, original, 3)
        self.assertEqual(connection.partner_history_asked, copy["history"])
        # The one that applied our status still answers under the history
        # known: the request came from a copy.
        connection._k2k_check_answered_position(
            wire.build_position(original, 3), status_applied=True
        )
        self.assertEqual(connection.partner_history_uid, original)
        self.assertEqual(connection.partner_copy_history, copy["history"])
        self.assertTrue(connection.partner_copy_date)
        self.assertIn("copy of", connection.message_ids[0].body)
        self.assertEqual(connection.partner_restart_count, 0, "not a restore")
        self.assertEqual(set(sent.mapped("state")), {"applied"}, "nothing sent again")
        self.assertEqual(
            self._told_history(connection, copy), wire.ERROR_COPIED_DATABASE
        )
        self.assertNotIn(wire.ERROR_COPIED_DATABASE, wire.RETRY_ERRORS)
        # The original goes on.
        self.assertIsNone(
            self._told_history(connection, wire.build_position(original, 3))
        )
        # An administrator, told the copy is stopped, clears the alert; the
        # copy stays refused.
        purchaser = self._make_user(
            "k2k_copy_purchaser", self.vendor_company, "purchase.group_purchase_user"
        )
        with self.assertRaises(AccessError):
            connection.with_user(purchaser).action_k2k_partner_copy_stopped()
        connection.action_k2k_partner_copy_stopped()
        self.assertFalse(connection.partner_copy_date)
        self.assertEqual(
            self._told_history(connection, copy), wire.ERROR_COPIED_DATABASE
        )

    def test_a_neutralized_copy_checks_nothing(self):
        connection = self._vendor_side()
        connection.database_oid = "1"
        self.env["ir.config_parameter"].sudo().set_param(
            "database.is_neutralized", True
        )
        self.env["k2k.connection"]._k2k_check_database_identity()
        self.assertEqual(connection.database_oid, "1")
        self.assertFalse(connection.position_check_pending)
        self.assertFalse(
            self.env["k2k.message"].search([("connection_id", "=", connection.id)])
        )


@tagged("post_install", "-at_install")
class TestK2KVendorRestore(K2KCommon):
    """The buyer's side of a vendor that restored its database."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["account.chart.template"].try_loading(
            "generic_coa", cls.buyer_company, install_demo=False
        )
        cls.buyer_company.k2k_invoice_upload_enabled = True
        cls.connection = make_remote_vendor_connection(
            cls.env, cls.buyer_company, "Restoring Vendor", wire.new_secret()
        )

    def _invoice(self, uid, number, price, revision=1):
        return invoice_envelope(
            uid, number, price, self.buyer_company.currency_id.name, revision
        )

    def _bill(self, uid):
        return self.env["account.move"].search(
            [
                ("k2k_connection_id", "=", self.connection.id),
                ("k2k_document_uid", "=", uid),
            ]
        )

    def test_a_restored_vendor_s_lost_invoices_are_flagged_its_new_ones_taken(self):
        connection = self.connection
        history = wire.new_uid()
        connection._k2k_check_answered_position(wire.build_position(history, 0))
        receipts = [
            apply_envelope(connection, envelope)["receipt"]
            for envelope in (
                self._invoice("inv-a", "INV/A", 1.0),
                self._invoice("inv-b", "INV/B", 2.0),
                self._invoice("inv-b", "INV/B", 2.5, revision=2),
            )
        ]
        self.assertEqual(receipts, [1, 2, 3])
        bill_a, bill_b = self._bill("inv-a"), self._bill("inv-b")
        self.assertEqual(bill_b.amount_untaxed, 25.0)
        self.assertFalse(bill_a.k2k_restore_check | bill_b.k2k_restore_check)

        # The vendor's backup held the answer to INV/A only: it recorded
        # receipt 1, then was restored, and tells it in its new history.
        connection._k2k_check_answered_position(
            wire.build_position(wire.new_uid(), 5, 0, 1, connection.history_uid, 1)
        )
        self.assertEqual(connection.partner_restart_count, 1)
        self.assertFalse(bill_a.k2k_restore_check, "sent before the backup")
        self.assertTrue(bill_b.k2k_restore_check)
        self.assertIn("restored its database", bill_b.message_ids[0].body)

        # Numbering again from its backup, its next version of INV/B is
        # revision 2 again: newer than anything here, so it is applied.
        outcome = apply_envelope(connection, self._invoice("inv-b", "INV/B", 3.0, 2))
        self.assertEqual(outcome["outcome"], "applied", outcome)
        self.assertEqual(bill_b.amount_untaxed, 30.0)
        # Its next invoice takes a number it had given before the restore:
        # another document, flagged, never merged.
        apply_envelope(connection, self._invoice("inv-c", "INV/A", 4.0))
        bill_c = self._bill("inv-c")
        self.assertEqual(len(bill_c), 1)
        self.assertNotEqual(bill_c, bill_a)
        self.assertTrue(bill_c.k2k_restore_check)
        self.assertIn(bill_a.display_name, bill_c.message_ids[0].body)
        self.assertEqual(bill_a.amount_untaxed, 10.0, "left as it was")

        # A billing user of the buyer marks it checked; others cannot.
        billing = self._make_user(
            "k2k_restore_billing", self.buyer_company, "account.group_account_invoice"
        )
        stranger = self._make_user(
            "k2k_restore_user", self.buyer_company, "base.group_user"
        )
        with self.assertRaises(UserError):
            bill_c.with_user(stranger).action_k2k_restore_checked()
        with self.assertRaises(AccessError):
            bill_c.with_user(billing).write({"k2k_restore_check": False})
        bill_c.with_user(billing).action_k2k_restore_checked()
        self.assertFalse(bill_c.k2k_restore_check)
