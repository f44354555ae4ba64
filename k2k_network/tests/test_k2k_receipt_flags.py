# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import Form, tagged

from .common_flow import K2KFlowCommon


@tagged("post_install", "-at_install")
class TestK2KReceiptFlags(K2KFlowCommon):
    """A K2K bill usually comes before the goods: "not received yet" is
    not "received a different quantity"."""

    def _receive(self, po, quantities, backorder):
        """Validate the buyer's receipt with ``quantities``, keeping the rest
        as a backorder or not."""
        for picking in po.picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel")
        ):
            for move in picking.move_ids:
                move.quantity = quantities.get(move.product_id, move.product_uom_qty)
            action = picking.button_validate()
            if isinstance(action, dict):
                wizard = Form(
                    self.env[action["res_model"]].with_context(**action["context"])
                ).save()
                if backorder:
                    wizard.process()
                else:
                    wizard.process_cancel_backorder()

    def _search_flagged(self, field):
        return self.env["account.move"].search([(field, "=", True)])

    def test_invoice_before_receipt(self):
        # Agreed prices below the vendor's list prices.
        po, _invoice, bill = self._full_flow(
            [(self.buyer_rose, 100, 0.75), (self.buyer_tulip, 50, 0.45)],
            receive=False,
        )
        self.assertTrue(bill.k2k_awaiting_receipt)
        self.assertFalse(bill.k2k_qty_mismatch)
        self.assertIn(bill, self._search_flagged("k2k_awaiting_receipt"))
        self.assertNotIn(bill, self._search_flagged("k2k_qty_mismatch"))

        # Part of it comes in, the rest is still on its way: still awaited.
        self._receive(po, {self.buyer_rose: 60}, backorder=True)
        self.assertTrue(bill.k2k_awaiting_receipt)
        self.assertFalse(bill.k2k_qty_mismatch)

        # Everything is in: nothing to flag.
        self._receive(po, {}, backorder=True)
        self.assertFalse(bill.k2k_awaiting_receipt)
        self.assertFalse(bill.k2k_qty_mismatch)
        self.assertNotIn(bill, self._search_flagged("k2k_awaiting_receipt"))

    def test_received_a_different_quantity(self):
        po, _invoice, bill = self._full_flow(
            [(self.buyer_rose, 100, 0.75)], receive=False
        )
        self.assertTrue(bill.k2k_awaiting_receipt)
        # 80 arrive and the buyer expects no more: the receipt is closed.
        self._receive(po, {self.buyer_rose: 80}, backorder=False)
        self.assertTrue(bill.k2k_qty_mismatch)
        self.assertFalse(bill.k2k_awaiting_receipt)
        self.assertIn(bill, self._search_flagged("k2k_qty_mismatch"))

    def test_received_before_the_invoice_differently(self):
        po = self._buyer_po([(self.buyer_rose, 100, 0.75)])
        self._receive(po, {self.buyer_rose: 80}, backorder=False)
        invoice = self._vendor_invoice(po.k2k_sale_order_id)
        self._process()
        bill = self._bill_of(invoice)
        self.assertTrue(bill.k2k_qty_mismatch)
        self.assertFalse(bill.k2k_awaiting_receipt)
