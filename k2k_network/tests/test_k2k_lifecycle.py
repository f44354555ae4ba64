# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The rest of a K2K document's life, in one database: the vendor's answer
to a K2K order (confirmed, cut, voided, cancelled) reaching the buyer's
purchase order, and the bill's fate (approved, booked, paid, disputed)
reaching the vendor's invoice."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import apply_envelope, make_company_user
from .common_flow import K2KFlowCommon


@tagged("post_install", "-at_install")
class TestK2KLifecycle(K2KFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._add_buyer_staff()

    def _as(self, records, user):
        return records.with_user(user).with_context(
            allowed_company_ids=user.company_id.ids
        )

    def _confirmed_k2k_order(self):
        po = self._buyer_po([(self.buyer_rose, 100, 0.80), (self.buyer_tulip, 50, 0.5)])
        so = po.k2k_sale_order_id.with_company(self.vendor)
        so.action_confirm()
        self._process()
        return po, so

    def _line(self, order, product):
        return order.order_line.filtered(lambda line: line.product_id == product)

    def _incoming(self, po, product):
        moves = po.picking_ids.move_ids.filtered(
            lambda m: m.product_id == product and m.state not in ("cancel", "done")
        )
        return sum(moves.mapped("product_uom_qty"))

    # -- the vendor's answer ---------------------------------------------------

    def test_the_vendors_confirmation_reaches_the_purchase_order(self):
        po, so = self._confirmed_k2k_order()
        self.assertEqual(po.k2k_vendor_state, "confirmed")
        self.assertEqual(po.k2k_sale_order_ref, so.name)
        self.assertIn(
            f"Confirmed by {self.vendor.name} as {so.name}", po.message_ids[0].body
        )
        self.assertEqual(
            self.env["purchase.order"].search(
                [("id", "=", po.id), ("k2k_vendor_state", "=", "confirmed")]
            ),
            po,
        )

    def test_a_cut_and_a_voided_line_follow_where_nothing_was_received(self):
        po, so = self._confirmed_k2k_order()
        self._line(so, self.vendor_rose).product_uom_qty = 60
        self._line(so, self.vendor_tulip).write({"product_uom_qty": 0})
        self._process()
        self.assertEqual(po.k2k_vendor_state, "changed")
        self.assertEqual(self._line(po, self.buyer_rose).product_qty, 60)
        self.assertEqual(self._line(po, self.buyer_tulip).product_qty, 0)
        self.assertEqual(self._incoming(po, self.buyer_rose), 60, "the receipt too")
        self.assertEqual(self._incoming(po, self.buyer_tulip), 0)
        note = po.message_ids.filtered(lambda m: "changed K2K order" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("quantity 100.00 -&gt; 60.00", note.body)
        self.assertIn("Yellow Tulip", note.body)
        self.assertTrue(po.activity_ids, "a purchase user is asked to look")
        self.assertFalse(po.k2k_vendor_attention)
        self.assertIn(
            po,
            self.env["purchase.order"].search(
                [("k2k_vendor_state", "in", ("changed", "cancelled"))]
            ),
        )
        # The same answer again changes nothing (its revision is known).
        message = self.env["k2k.message"].search(
            [("message_type", "=", "order_answer")], order="id desc", limit=1
        )
        outcome = apply_envelope(self.connection.sudo(), message._k2k_get_envelope())
        self.assertEqual(outcome["outcome"], "superseded")

    def test_what_was_received_is_never_changed(self):
        po, so = self._confirmed_k2k_order()
        self._validate_pickings(po.picking_ids)
        self._line(so, self.vendor_rose).product_uom_qty = 60
        self._process()
        self.assertEqual(self._line(po, self.buyer_rose).product_qty, 100)
        self.assertTrue(po.k2k_vendor_attention)
        self.assertIn("Not applied", po.message_ids[0].body)
        with self.assertRaises(UserError):
            self._as(po, self.ap_clerk).action_k2k_clear_vendor_attention()
        with self.assertRaises(AccessError):
            self._as(po, self.purchaser).write({"k2k_vendor_attention": False})
        self._as(po, self.purchaser).action_k2k_clear_vendor_attention()
        self.assertFalse(po.k2k_vendor_attention)

    def test_a_vendor_asking_for_more_is_a_persons_call(self):
        po, so = self._confirmed_k2k_order()
        self._line(so, self.vendor_rose).write({"product_uom_qty": 150})
        self._line(so, self.vendor_tulip).write({"price_unit": 0.9})
        self._process()
        self.assertEqual(self._line(po, self.buyer_rose).product_qty, 100)
        self.assertEqual(self._line(po, self.buyer_tulip).price_unit, 0.5)
        self.assertTrue(po.k2k_vendor_attention)
        self.assertIn("asks for more than was ordered", po.message_ids[0].body)

    def test_the_vendors_cancellation_cancels_the_purchase_order(self):
        po, so = self._confirmed_k2k_order()
        so._action_cancel()
        self._process()
        self.assertEqual(po.state, "cancel")
        self.assertEqual(po.k2k_vendor_state, "cancelled")
        self.assertFalse(
            self.env["k2k.message"].search([("message_type", "=", "order_cancel")]),
            "nothing is sent back to the vendor",
        )

    def test_answers_wait_for_a_suspended_connection_then_go_in_order(self):
        po = self._buyer_po([(self.buyer_rose, 100, 0.80)])
        so = po.k2k_sale_order_id.with_company(self.vendor)
        self.connection.action_suspend()
        so.action_confirm()
        self._line(so, self.vendor_rose).product_uom_qty = 60
        self._process()
        answers = self.env["k2k.message"].search(
            [("message_type", "=", "order_answer")], order="id"
        )
        self.assertEqual(answers.mapped("state"), ["superseded", "waiting"])
        self.assertFalse(po.k2k_vendor_state, "nothing crossed")
        self.connection.action_resume()
        self._process()
        self.assertEqual(answers[1].state, "applied")
        self.assertEqual(po.k2k_vendor_state, "changed")
        self.assertEqual(self._line(po, self.buyer_rose).product_qty, 60)

    # -- the shipment notice ---------------------------------------------------

    def _ship(self, pickings, quantities):
        """Validate deliveries with ``quantities`` by product; the rest goes
        to a backorder, as Odoo's own wizard would."""
        for picking in pickings.filtered(lambda p: p.state not in ("done", "cancel")):
            for move in picking.move_ids:
                move.quantity = quantities.get(move.product_id, move.product_uom_qty)
            picking.move_ids.picked = True
            picking._action_done()

    def _receipt_move(self, po, product):
        return po.picking_ids.move_ids.filtered(
            lambda m: m.product_id == product and m.state not in ("done", "cancel")
        )

    def test_a_partial_shipment_then_the_rest(self):
        po, so = self._confirmed_k2k_order()
        delivery = so.picking_ids
        self._ship(delivery, {self.vendor_rose: 60})
        self._process()
        receipt = po.picking_ids
        self.assertEqual(len(receipt), 1)
        self.assertEqual(receipt.k2k_shipment_ref, delivery.name)
        self.assertEqual(self._receipt_move(po, self.buyer_rose).quantity, 60)
        self.assertEqual(self._receipt_move(po, self.buyer_tulip).quantity, 50)
        self.assertNotEqual(receipt.state, "done", "checked on arrival, by a person")
        self.assertIn("On its way", receipt.message_ids[0].body)
        # The buyer receives what came; the rest stays expected.
        receipt.move_ids.picked = True
        receipt._action_done()
        backorder = po.picking_ids - receipt
        self.assertEqual(backorder.move_ids.product_uom_qty, 40)
        self.assertFalse(backorder.k2k_shipment_ref, "nothing of it shipped yet")

        self._ship(so.picking_ids - delivery, {})
        self._process()
        self.assertEqual(self._receipt_move(po, self.buyer_rose).quantity, 40)
        self.assertEqual(backorder.k2k_shipment_ref, (so.picking_ids - delivery).name)
        self.assertEqual(backorder.state, "assigned")
        # The same notice twice changes nothing (its revision is known).
        notice = self.env["k2k.message"].search(
            [("message_type", "=", "shipment")], order="id desc", limit=1
        )
        again = apply_envelope(self.connection.sudo(), notice._k2k_get_envelope())
        self.assertEqual(again["outcome"], "superseded")
        self.assertEqual(self._receipt_move(po, self.buyer_rose).quantity, 40)

    def test_lot_numbers_travel_with_the_shipment(self):
        for product in (self.vendor_rose, self.buyer_rose):
            product.write({"is_storable": True, "tracking": "lot"})
        po, so = self._confirmed_k2k_order()
        delivery = so.picking_ids
        rose_move = delivery.move_ids.filtered(
            lambda m: m.product_id == self.vendor_rose
        )
        lots = self.env["stock.lot"].create(
            [
                {
                    "name": name,
                    "product_id": self.vendor_rose.id,
                    "company_id": self.vendor.id,
                }
                for name in ("LOT-A", "LOT-B")
            ]
        )
        self.env["stock.quant"]._update_available_quantity(
            self.vendor_rose, rose_move.location_id, 70, lot_id=lots[0]
        )
        self.env["stock.quant"]._update_available_quantity(
            self.vendor_rose, rose_move.location_id, 30, lot_id=lots[1]
        )
        rose_move.move_line_ids.unlink()
        self.env["stock.move.line"].create(
            [
                dict(rose_move._prepare_move_line_vals(), lot_id=lot.id, quantity=qty)
                for lot, qty in ((lots[0], 70), (lots[1], 30))
            ]
        )
        self._ship(delivery, {self.vendor_rose: 100})
        self._process()
        move = self._receipt_move(po, self.buyer_rose)
        self.assertEqual(
            sorted(
                zip(
                    move.move_line_ids.mapped("lot_name"),
                    move.move_line_ids.mapped("quantity"),
                    strict=True,
                )
            ),
            [("LOT-A", 70), ("LOT-B", 30)],
        )

    # -- the bill's fate -------------------------------------------------------

    def _pay(self, bill, amount=None):
        wizard = (
            self.env["account.payment.register"]
            .with_company(self.buyer)
            .with_context(active_model="account.move", active_ids=bill.ids)
            .create({"amount": amount} if amount else {})
        )
        wizard.action_create_payments()

    def test_the_bills_fate_reaches_the_vendor(self):
        _po, invoice, bill = self._full_flow()
        self.assertEqual(invoice.k2k_buyer_status, "pending", "received")
        self._as(bill, self.purchaser).action_k2k_approve()
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "approved")
        self._as(bill, self.ap_clerk).action_k2k_send_back()
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "sent_back")
        bill.action_k2k_approve()
        bill.action_post()
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "posted")
        self._pay(bill, bill.amount_total / 2)
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "partial")
        self._pay(bill)
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "paid")
        self.assertTrue(invoice.k2k_buyer_status_date)
        # An older status arriving late (a retry, a slow network) is ignored.
        first = self.env["k2k.message"].search(
            [("message_type", "=", "bill_status"), ("state", "=", "applied")],
            order="revision",
            limit=1,
        )
        late = apply_envelope(self.connection.sudo(), first._k2k_get_envelope())
        self.assertEqual(late["outcome"], "superseded")
        self.assertEqual(invoice.k2k_buyer_status, "paid")
        self.assertIn(
            invoice,
            self.env["account.move"].search([("k2k_buyer_status", "=", "paid")]),
        )
        self.assertIn("At Petal Test Wholesale: Paid.", invoice.message_ids[0].body)
        # Only the status and the amounts paid and left travel: none of the
        # buyer's accounts, journals or payments.
        status = self.env["k2k.message"].search(
            [("message_type", "=", "bill_status")], order="id desc", limit=1
        )
        self.assertEqual(
            set(status.payload),
            {
                "invoice_uid",
                "status",
                "reason",
                "note",
                "amount_paid",
                "amount_residual",
            },
        )

    def test_a_dispute_and_its_settlement_by_a_credit_note(self):
        _po, invoice, bill = self._full_flow()
        with self.assertRaisesRegex(UserError, "Only purchase users"):
            self._as(bill, self.ap_clerk).action_k2k_dispute()
        wizard = (
            self._as(self.env["k2k.dispute.wizard"], self.purchaser)
            .with_context(default_move_ids=bill.ids)
            .create({"reason": "damaged", "note": "20 stems broken"})
        )
        wizard.action_dispute()
        self.assertEqual(bill.k2k_approval_state, "disputed")
        with self.assertRaisesRegex(UserError, "disputed"):
            bill.action_post()
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "disputed")
        self.assertEqual(invoice.k2k_buyer_dispute, "Damaged goods: 20 stems broken")
        self.assertTrue(invoice.activity_ids, "a billing user at the vendor is asked")
        self.assertIn(
            invoice,
            self.env["account.move"].search([("k2k_buyer_status", "=", "disputed")]),
        )

        wizard = (
            self.env["account.move.reversal"]
            .with_company(self.vendor)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"reason": "Broken stems", "journal_id": invoice.journal_id.id})
        )
        refund = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        refund.invoice_line_ids[1].unlink()
        refund.invoice_line_ids.quantity = 20
        refund.action_post()
        self._process()
        self.assertEqual(self._bill_of(refund).reversed_entry_id, bill)
        self.assertEqual(bill.k2k_approval_state, "pending", "back to procurement")
        self.assertFalse(bill.k2k_dispute_reason)
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "pending")
        self.assertFalse(invoice.k2k_buyer_dispute)

    def test_an_update_settles_a_dispute_too(self):
        _po, invoice, bill = self._full_flow()
        bill._k2k_dispute("price", False)
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "disputed")
        self._revise(invoice, 0.7)
        self._process()
        self.assertEqual(bill.k2k_approval_state, "pending")
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "pending")

    def test_nobody_writes_the_fate_by_hand(self):
        _po, invoice, bill = self._full_flow()
        salesman = make_company_user(
            self.env, "k2k_life_salesman", self.vendor, "sales_team.group_sale_salesman"
        )
        with self.assertRaises(AccessError):
            self._as(invoice, salesman).write({"k2k_buyer_status": "paid"})
        with self.assertRaises(AccessError):
            self._as(bill, self.purchaser).write(
                {"k2k_approval_state": "disputed", "k2k_dispute_reason": "price"}
            )
