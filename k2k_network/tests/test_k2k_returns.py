# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Returns, in one database: goods the buyer sends back of a K2K order reach
the vendor's order as a return it can turn into a credit note, which then
travels back to the buyer as credit notes do."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import add_company_users, apply_envelope
from .common_flow import K2KFlowCommon


@tagged("post_install", "-at_install")
class TestK2KReturns(K2KFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        add_company_users(
            cls,
            cls.vendor,
            salesman="sales_team.group_sale_salesman_all_leads,"
            "account.group_account_invoice",
            stock_clerk="stock.group_stock_user",
        )
        add_company_users(cls, cls.buyer, storekeeper="stock.group_stock_user")
        # The vendor sells to this buyer at the agreed prices.
        cls._k2k_agree_prices({cls.vendor_rose: 0.70, cls.vendor_tulip: 0.45})

    def _as(self, records, user):
        return records.with_user(user).with_context(
            allowed_company_ids=user.company_id.ids
        )

    def _line(self, order, product):
        return order.order_line.filtered(lambda line: line.product_id == product)

    def _delivered_and_billed(self):
        """10 roses and 20 tulips at agreed prices below the vendor's list
        prices (0.80, 0.50): shipped, invoiced, received and billed."""
        po = self._buyer_po([(self.buyer_rose, 10, 0.70), (self.buyer_tulip, 20, 0.45)])
        so = po.k2k_sale_order_id.with_company(self.vendor)
        so.user_id = self.salesman
        invoice = self._vendor_invoice(so)
        self._process()
        self._validate_pickings(po.picking_ids)
        return po, so, invoice

    def _buyer_return(self, po, quantities, note=False, user=None):
        """Return ``quantities`` (by product) of the buyer's receipt with
        Odoo's own return wizard, and validate the return."""
        receipt = po.picking_ids.filtered(
            lambda p: p.picking_type_code == "incoming" and p.state == "done"
        )[:1]
        wizard = (
            self.env["stock.return.picking"]
            .with_company(self.buyer)
            .with_context(active_id=receipt.id, active_model="stock.picking")
            .create({"picking_id": receipt.id})
        )
        for line in wizard.product_return_moves:
            line.quantity = quantities.get(line.product_id, 0)
        action = wizard.action_create_returns()
        returned = self.env["stock.picking"].browse(action["res_id"])
        if note:
            returned.note = note
        for move in returned.move_ids:
            move.quantity = move.product_uom_qty
        returned.move_ids.picked = True
        if user:
            returned = self._as(returned, user)
        returned.button_validate()
        self.assertEqual(returned.state, "done")
        return returned

    def _last_return_message(self):
        return self.env["k2k.message"].search(
            [("message_type", "=", "return")], order="id desc", limit=1
        )

    def test_a_return_reaches_the_vendor_and_becomes_a_credit_note(self):
        po, so, invoice = self._delivered_and_billed()
        self.assertFalse(so.k2k_returned_by_buyer)
        self._buyer_return(
            po, {self.buyer_rose: 3}, note="Stems broken", user=self.storekeeper
        )
        self.assertEqual(self._line(po, self.buyer_rose).qty_received, 7)
        self._process()
        message = self._last_return_message()
        self.assertEqual(message.state, "applied", message.state_detail)

        rose = self._line(so, self.vendor_rose)
        self.assertEqual(rose.k2k_qty_returned, 3)
        self.assertEqual(self._line(so, self.vendor_tulip).k2k_qty_returned, 0)
        # The buyer's word changes nothing in the vendor's books: its own
        # return receipt does, when the goods are back.
        self.assertEqual(rose.qty_delivered, 10)
        self.assertTrue(so.k2k_returned_by_buyer)
        self.assertTrue(so.k2k_return_to_credit)
        self.assertIn(
            so,
            self.env["sale.order"].search([("k2k_returned_by_buyer", "=", True)]),
        )
        note = so.message_ids.filtered(lambda m: "Stems broken" in (m.body or ""))
        self.assertEqual(len(note), 1, "the return's note is its reason")
        self.assertIn(self.vendor_rose.display_name, note.body)
        self.assertNotIn(self.vendor_tulip.display_name, note.body)
        self.assertEqual(so.activity_ids.user_id, self.salesman)

        # A vendor's warehouse user may read the order but not credit it.
        with self.assertRaises(AccessError):
            self._as(so, self.stock_clerk).action_k2k_create_return_credit_note()
        action = self._as(so, self.salesman).action_k2k_create_return_credit_note()
        refund = self.env["account.move"].browse(action["res_id"])
        self.assertEqual(refund.move_type, "out_refund")
        self.assertEqual(refund.state, "draft")
        self.assertEqual(refund.reversed_entry_id, invoice)
        self.assertEqual(len(refund.invoice_line_ids), 1)
        self.assertEqual(refund.invoice_line_ids.product_id, self.vendor_rose)
        self.assertEqual(refund.invoice_line_ids.quantity, 3)
        self.assertAlmostEqual(refund.invoice_line_ids.price_unit, 0.70)
        self.assertEqual(refund.invoice_line_ids.tax_ids, rose.tax_id)
        self.assertEqual(rose.qty_invoiced, 7)
        self.assertFalse(so.k2k_return_to_credit)
        # A second call makes no second credit note for the same goods.
        with self.assertRaises(UserError):
            so.action_k2k_create_return_credit_note()
        self.assertEqual(
            so.invoice_ids.filtered(lambda m: m.move_type == "out_refund"), refund
        )

        refund.action_post()
        self._process()
        bill_refund = self._bill_of(refund)
        self.assertEqual(bill_refund.move_type, "in_refund")
        self.assertEqual(bill_refund.company_id, self.buyer)
        self.assertEqual(bill_refund.invoice_line_ids.quantity, 3)
        self.assertEqual(
            bill_refund.invoice_line_ids.purchase_line_id,
            self._line(po, self.buyer_rose),
        )

    def test_a_deleted_draft_credit_note_is_offered_again(self):
        po, so, _invoice = self._delivered_and_billed()
        self._buyer_return(po, {self.buyer_rose: 3})
        self._process()
        action = so.action_k2k_create_return_credit_note()
        self.env["account.move"].browse(action["res_id"]).unlink()
        self.assertTrue(so.k2k_return_to_credit)
        action = so.action_k2k_create_return_credit_note()
        refund = self.env["account.move"].browse(action["res_id"])
        self.assertEqual(refund.invoice_line_ids.quantity, 3)

    def test_a_repeated_or_late_return_changes_nothing(self):
        po, so, _invoice = self._delivered_and_billed()
        self._buyer_return(po, {self.buyer_rose: 3})
        self._process()
        first = self._last_return_message()
        self._buyer_return(po, {self.buyer_rose: 2, self.buyer_tulip: 5})
        self._process()
        rose = self._line(so, self.vendor_rose)
        tulip = self._line(so, self.vendor_tulip)
        self.assertEqual((rose.k2k_qty_returned, tulip.k2k_qty_returned), (5, 5))
        # Each line's total so far travels: the same message again, or an
        # older one arriving late, changes nothing.
        for message in (self._last_return_message(), first):
            outcome = apply_envelope(
                self.connection.sudo(), message._k2k_get_envelope()
            )
            self.assertEqual(outcome["outcome"], "superseded")
        self.assertEqual((rose.k2k_qty_returned, tulip.k2k_qty_returned), (5, 5))
        self.assertEqual(len(so.activity_ids), 2, "one per return, none per repeat")

    def test_a_forged_return_is_refused(self):
        po, so, _invoice = self._delivered_and_billed()
        other_po, _other_so, _other_invoice = self._delivered_and_billed()
        self._buyer_return(po, {self.buyer_rose: 3})
        self._process()
        envelope = self._last_return_message()._k2k_get_envelope()
        rose_ref = self._line(so, self.vendor_rose).k2k_purchase_line_ref
        other_ref = self._line(other_po, self.buyer_tulip).k2k_line_uid

        def forged(lines):
            return dict(
                envelope,
                revision=envelope["revision"] + 1,
                payload=dict(envelope["payload"], lines=lines),
            )

        more = [{"purchase_line_ref": rose_ref, "returned": 11}]
        with self.assertRaisesRegex(UserError, "10"):
            apply_envelope(self.connection.sudo(), forged(more))
        foreign = [{"purchase_line_ref": other_ref, "returned": 1}]
        with self.assertRaises(UserError):
            apply_envelope(self.connection.sudo(), forged(foreign))
        self.assertEqual(self._line(so, self.vendor_rose).k2k_qty_returned, 3)
        self.assertFalse(self._line(so, self.vendor_tulip).k2k_qty_returned)

    def test_nobody_writes_a_return_by_hand(self):
        po, so, _invoice = self._delivered_and_billed()
        with self.assertRaises(AccessError):
            self._as(self._line(so, self.vendor_rose), self.salesman).write(
                {"k2k_qty_returned": 5}
            )
        with self.assertRaises(AccessError):
            self._as(so, self.salesman).write({"k2k_returned_by_buyer": True})
        with self.assertRaises(UserError):
            so.action_k2k_create_return_credit_note()

    def test_a_return_in_dozens_is_read_in_units(self):
        # The buyer buys gerberas by the dozen, its vendor sells them by
        # the unit: 2 dozens back are 24 units at the vendor.
        vendor_gerbera = self._k2k_vendor_product("Gerbera Mix", "V-GERB", 0.50)
        buyer_gerbera = self._k2k_buyer_product("Gerbera Mixed", "V-GERB", 6.00)
        buyer_gerbera.uom_po_id = self.env.ref("uom.product_uom_dozen")
        po = self._buyer_po([(buyer_gerbera, 10, 6.00)])
        so = po.k2k_sale_order_id.with_company(self.vendor)
        self._vendor_invoice(so)
        self._process()
        self._validate_pickings(po.picking_ids)
        self._buyer_return(po, {buyer_gerbera: 24})
        self._process()
        self.assertEqual(self._last_return_message().state, "applied")
        line = self._line(so, vendor_gerbera)
        self.assertEqual(line.product_uom, self.env.ref("uom.product_uom_unit"))
        self.assertAlmostEqual(line.k2k_qty_returned, 24)
