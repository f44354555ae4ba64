# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""An invoice the vendor cancels, resets and posts again, and a bill the
buyer deletes: the same document comes back to the buyer, and each side
knows where the other stands."""

from odoo import Command
from odoo.tests import tagged

from .common import apply_envelope
from .common_flow import K2KFlowCommon


@tagged("post_install", "-at_install")
class TestK2KCancelDelete(K2KFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # As a real buyer has it: its own purchase tax (not the vendor's
        # sales tax), and prices agreed below the vendor's list prices.
        cls.buyer_tax = cls.env["account.tax"].create(
            {
                "name": "Purchase 10 %",
                "amount": 10,
                "type_tax_use": "purchase",
                "company_id": cls.buyer.id,
            }
        )
        (cls.buyer_rose | cls.buyer_tulip).supplier_taxes_id = [
            Command.set(cls.buyer_tax.ids)
        ]
        cls._k2k_agree_prices({cls.vendor_rose: 0.72, cls.vendor_tulip: 0.45})
        cls.purchaser = cls.env["res.users"].create(
            {
                "name": "Petal Purchaser",
                "login": "k2k_life_purchaser",
                "email": "purchaser@petal.example",
                "company_id": cls.buyer.id,
                "company_ids": [Command.set(cls.buyer.ids)],
                "groups_id": [
                    Command.set(
                        [
                            cls.env.ref("purchase.group_purchase_user").id,
                            cls.env.ref("account.group_account_invoice").id,
                        ]
                    )
                ],
            }
        )

    def _agreed_flow(self):
        return self._full_flow(
            [(self.buyer_rose, 100, 0.72), (self.buyer_tulip, 50, 0.45)]
        )

    def _cancel_and_post_again(self, invoice, price):
        invoice.button_cancel()
        self._process()
        self._revise(invoice, price)

    def _process_all(self):
        # What one side applies may queue an answer (a bill's status): a
        # second run sends it.
        self._process()
        self._process()

    def _deliver_again(self, message):
        """``message`` arrives once more, late (a retry, a slow network)."""
        return apply_envelope(self.connection.sudo(), message._k2k_get_envelope())

    def _as_purchaser(self, bill):
        return bill.with_user(self.purchaser).with_context(
            allowed_company_ids=self.buyer.ids
        )

    # -- cancel, reset and post again ----------------------------------------

    def _assert_back_for_approval(self, bill, invoice):
        """``bill`` is a draft at the invoice's second revision, updated by
        the vendor and waiting for approval again."""
        self.assertRecordValues(
            bill,
            [
                {
                    "state": "draft",
                    "k2k_revision": 2,
                    "k2k_approval_state": "pending",
                    "k2k_updated_by_vendor": True,
                    "amount_untaxed": invoice.amount_untaxed,
                }
            ],
        )

    def test_an_approved_bill_comes_back_when_the_invoice_is_posted_again(self):
        _po, invoice, bill = self._agreed_flow()
        self._as_purchaser(bill).action_k2k_approve()
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "approved")

        invoice.button_cancel()
        self._process_all()
        self.assertEqual(bill.state, "cancel")
        self.assertEqual(invoice.k2k_buyer_status, "cancelled")

        self._revise(invoice, 0.68)
        self.assertEqual(invoice.k2k_revision, 2)
        self._process_all()

        self.assertEqual(self._bill_of(invoice), bill, "the same bill, not a new one")
        self._assert_back_for_approval(bill, invoice)
        self.assertEqual(
            bill.invoice_line_ids.sorted("price_unit").mapped("price_unit"),
            [0.45, 0.68],
        )
        # Both sides agree on where the invoice stands.
        self.assertEqual(invoice.k2k_sync_state, "applied")
        self.assertEqual(invoice.k2k_buyer_status, "pending")
        # And it goes on as any bill.
        self._as_purchaser(bill).action_k2k_approve()
        bill.action_post()
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "posted")

    def test_a_bill_the_buyer_cancelled_after_it_came_back_stays_cancelled(self):
        _po, invoice, bill = self._agreed_flow()
        self._cancel_and_post_again(invoice, 0.68)
        self._process_all()
        self.assertEqual((bill.state, bill.k2k_revision), ("draft", 2))
        # The buyer cancels it itself (a wrong invoice, say): the vendor's
        # next revision waits for a person, it does not bring it back.
        bill.button_cancel()
        self._revise(invoice, 0.66)
        self._process_all()
        self.assertEqual(bill.state, "cancel")
        self.assertEqual(bill.k2k_revision, 2)
        self.assertEqual(bill.k2k_pending_revision, 3)

    def test_a_booked_bill_holds_the_invoice_posted_again_for_accounting(self):
        _po, invoice, bill = self._agreed_flow()
        self._as_purchaser(bill).action_k2k_approve()
        bill.action_post()
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "posted")

        self._cancel_and_post_again(invoice, 0.68)
        self.assertTrue(bill.k2k_cancelled_by_vendor)
        self._process_all()

        self.assertEqual(bill.state, "posted", "a booked bill is never changed")
        self.assertTrue(bill.k2k_changed_after_booking)
        self.assertEqual(bill.k2k_pending_revision, 2)
        self.assertFalse(
            bill.k2k_cancelled_by_vendor, "the vendor's invoice is valid again"
        )
        self.assertEqual(invoice.k2k_sync_state, "delivered")
        self.assertEqual(invoice.k2k_buyer_status, "posted")

        bill.action_k2k_apply_vendor_changes()
        self._process()
        self._assert_back_for_approval(bill, invoice)
        self.assertEqual(invoice.k2k_buyer_status, "pending")

    def test_a_message_older_than_the_cancellation_is_still_ignored(self):
        _po, invoice, bill = self._agreed_flow()
        first = invoice.k2k_message_ids
        invoice.button_cancel()
        self._process_all()
        cancellation = invoice.k2k_message_ids.filtered(
            lambda m: m.message_type == "invoice_cancel"
        )
        # The first revision, late, after its cancellation: the bill stays
        # cancelled.
        self.assertEqual(self._deliver_again(first)["outcome"], "superseded")
        self.assertEqual(bill.state, "cancel")

        self._revise(invoice, 0.68)
        self._process_all()
        self.assertEqual(bill.state, "draft")
        self.assertEqual(bill.k2k_revision, 2)
        # The first revision and its cancellation, late again: neither
        # touches the bill that came back.
        self.assertEqual(self._deliver_again(first)["outcome"], "superseded")
        self.assertEqual(self._deliver_again(cancellation)["outcome"], "applied")
        self.assertRecordValues(
            bill,
            [{"state": "draft", "k2k_revision": 2, "k2k_approval_state": "pending"}],
        )
        self.assertIn(0.68, bill.invoice_line_ids.mapped("price_unit"))
        # The second revision's own cancellation cancels it again.
        invoice.button_cancel()
        self._process_all()
        self.assertEqual(bill.state, "cancel")
        self.assertEqual(invoice.k2k_buyer_status, "cancelled")

    def test_posted_again_and_cancelled_again_before_it_left(self):
        _po, invoice, bill = self._agreed_flow()
        invoice.button_cancel()
        self._process_all()
        invoice.button_draft()
        invoice.action_post()
        invoice.button_cancel()
        self._process_all()
        self.assertRecordValues(
            bill, [{"state": "cancel", "k2k_cancelled_by_vendor": False}]
        )
        self.assertEqual(invoice.k2k_buyer_status, "cancelled")

    # -- a deleted bill --------------------------------------------------------

    def test_a_deleted_bill_is_reported_to_the_vendor(self):
        _po, invoice, bill = self._agreed_flow()
        self.assertEqual(invoice.k2k_buyer_status, "pending")
        before = invoice.k2k_buyer_status_date
        # By the buyer's own billing user, not an administrator.
        self._as_purchaser(bill).unlink()
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "deleted")
        self.assertTrue(invoice.k2k_buyer_status_date)
        self.assertGreaterEqual(invoice.k2k_buyer_status_date, before)
        status = self.env["k2k.message"].search(
            [("message_type", "=", "bill_status")], order="id desc", limit=1
        )
        self.assertEqual(status.state, "applied")
        self.assertEqual(status.payload["status"], "deleted")

    def test_the_next_revision_recreates_a_deleted_bill_as_an_update(self):
        _po, invoice, bill = self._agreed_flow()
        first = invoice.k2k_message_ids
        document_uid = bill.k2k_document_uid
        bill.unlink()
        self._process()
        deleted = self.env["k2k.message"].search(
            [("message_type", "=", "bill_status")], order="id desc", limit=1
        )
        # The revision the buyer deleted, again: it was deleted on purpose.
        self.assertEqual(self._deliver_again(first)["outcome"], "superseded")
        self.assertFalse(self._bill_of(invoice))

        self._revise(invoice, 0.68)
        self._process_all()
        new_bill = self._bill_of(invoice)
        self.assertEqual(len(new_bill), 1)
        self._assert_back_for_approval(new_bill, invoice)
        self.assertEqual(new_bill.k2k_document_uid, document_uid)
        self.assertEqual(invoice.k2k_sync_state, "applied")
        self.assertEqual(invoice.k2k_buyer_status, "pending")
        # The status of the deleted bill, late: older than the new bill's.
        self.assertEqual(self._deliver_again(deleted)["outcome"], "superseded")
        self.assertEqual(invoice.k2k_buyer_status, "pending")
        # The vendor can open the new bill from its invoice.
        self.assertEqual(invoice.k2k_buyer_move_id, new_bill)
