# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The people who act on K2K documents, as a company has them: a purchase
user who never set an e-mail address, an inventory user who may only read
his own sales, a billing user who is a salesperson for his own orders. What
they can do without the addon, they can do with it."""

from odoo import Command
from odoo.tests import tagged

from .common import add_company_users
from .common_flow import K2KFlowCommon


@tagged("post_install", "-at_install")
class TestK2KActingUsers(K2KFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The agreed prices differ from the vendor's list prices (0.80, 0.50),
        # each company has its own taxes (from its chart of accounts).
        cls.lines = [(cls.buyer_rose, 120, 0.65), (cls.buyer_tulip, 40, 0.45)]
        # At the buyer: procurement approves, accounting books; nobody gave
        # them an e-mail address.
        add_company_users(
            cls,
            cls.buyer,
            purchaser="purchase.group_purchase_user",
            ap_clerk="account.group_account_invoice",
        )
        (cls.purchaser | cls.ap_clerk).partner_id.email = False
        # At the vendor: the salesperson of the K2K orders, and people who
        # may only read their own sales.
        add_company_users(
            cls,
            cls.vendor,
            salesperson="sales_team.group_sale_salesman",
            storekeeper="stock.group_stock_manager,sales_team.group_sale_salesman",
            warehouse_worker="stock.group_stock_user",
            ar_clerk="account.group_account_invoice,sales_team.group_sale_salesman",
        )

    def _as(self, records, user):
        # As in a request of that user: nothing read by others before.
        self.env.invalidate_all()
        return records.with_user(user).with_context(
            allowed_company_ids=user.company_id.ids
        )

    def _notes_by(self, record, user):
        return record.message_ids.filtered(lambda m: m.author_id == user.partner_id)

    # -- point 8: chatter notes need no e-mail address -------------------------

    def test_approve_send_back_dispute_without_email(self):
        _po, invoice, bill = self._full_flow(self.lines)
        self._as(bill, self.purchaser).action_k2k_approve()
        self.assertEqual(bill.k2k_approval_state, "approved")
        self.assertTrue(self._notes_by(bill, self.purchaser))
        self._as(bill, self.ap_clerk).action_k2k_send_back()
        self.assertEqual(bill.k2k_approval_state, "pending")
        self.assertTrue(self._notes_by(bill, self.ap_clerk))
        wizard = (
            self._as(self.env["k2k.dispute.wizard"], self.purchaser)
            .with_context(default_move_ids=bill.ids)
            .create({"reason": "damaged", "note": "12 stems broken"})
        )
        wizard.action_dispute()
        self.assertEqual(bill.k2k_approval_state, "disputed")
        self.assertEqual(len(self._notes_by(bill, self.purchaser)), 2)
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "disputed")
        self.assertTrue(invoice.activity_ids, "the vendor is still asked to act")
        # Settled another way: approved after all, and booked.
        self._as(bill, self.purchaser).action_k2k_approve()
        self._as(bill, self.ap_clerk).action_post()
        self.assertEqual(bill.state, "posted")

    def test_apply_vendor_changes_without_email(self):
        _po, invoice, bill = self._full_flow(self.lines)
        bill.action_k2k_approve()
        bill.action_post()
        self._revise(invoice, 0.60)
        self._process()
        self.assertTrue(bill.k2k_changed_after_booking)
        self._as(bill, self.ap_clerk).action_k2k_apply_vendor_changes()
        self.assertEqual(bill.state, "draft")
        self.assertEqual(bill.k2k_approval_state, "pending")
        self.assertEqual(bill.amount_untaxed, invoice.amount_untaxed)

    def test_vendor_change_handled_without_email(self):
        po = self._buyer_po(self.lines)
        sale = po.k2k_sale_order_id.with_company(self.vendor)
        sale.action_confirm()
        self._process()
        self._validate_pickings(po.picking_ids)
        # The vendor cuts a line the buyer already received: held for a person.
        sale.order_line.filtered(
            lambda line: line.product_id == self.vendor_rose
        ).product_uom_qty = 100
        self._process()
        self.assertTrue(po.k2k_vendor_attention)
        self._as(po, self.purchaser).action_k2k_clear_vendor_attention()
        self.assertFalse(po.k2k_vendor_attention)
        self.assertTrue(self._notes_by(po, self.purchaser))

    # -- point 11: core flows for users who may read their own sales only ------

    def _k2k_order_of_another_salesperson(self):
        po = self._buyer_po(self.lines)
        sale = po.k2k_sale_order_id.with_company(self.vendor)
        sale.user_id = self.salesperson
        sale.action_confirm()
        return po, sale

    def _queued(self, message_type, record):
        return self.env["k2k.message"].search(
            [
                ("message_type", "=", message_type),
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
            ]
        )

    def test_warehouse_ships_another_salespersons_k2k_order(self):
        """As Odoo's own sale_stock test_inventory_admin_no_backorder_not_own_
        sale_order: the storekeeper may not read the order he delivers."""
        for user in (self.storekeeper, self.warehouse_worker):
            with self.subTest(user=user.login):
                _po, sale = self._k2k_order_of_another_salesperson()
                picking = self._as(sale.picking_ids, user)
                for move in picking.move_ids:
                    move.write({"quantity": move.product_uom_qty, "picked": True})
                picking.button_validate()
                self.assertEqual(sale.picking_ids.state, "done")
                self.assertTrue(self._queued("shipment", sale))

    def test_billing_posts_and_cancels_another_salespersons_invoice(self):
        _po, sale = self._k2k_order_of_another_salesperson()
        self._validate_pickings(sale.picking_ids)
        invoice = sale._create_invoices()
        self._as(invoice, self.ar_clerk).action_post()
        self.assertEqual(invoice.state, "posted")
        self.assertTrue(self._queued("invoice", invoice))
        self._as(invoice, self.ar_clerk).button_cancel()
        self.assertEqual(invoice.state, "cancel")
        self.assertTrue(self._queued("invoice_cancel", invoice))

    def test_salesperson_confirms_his_own_k2k_order(self):
        po = self._buyer_po(self.lines)
        sale = po.k2k_sale_order_id.with_company(self.vendor)
        sale.write(
            {
                "user_id": self.salesperson.id,
                "order_line": [Command.update(sale.order_line[:1].id, {"discount": 5})],
            }
        )
        self._as(sale, self.salesperson).action_confirm()
        self.assertEqual(sale.state, "sale")
        self.assertTrue(self._queued("order_answer", sale))
