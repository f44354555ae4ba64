# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common_flow import K2KFlowCommon


@tagged("post_install", "-at_install")
class TestK2KOrder(K2KFlowCommon):
    def test_confirmed_po_creates_k2k_order(self):
        po = self._buyer_po(
            [(self.buyer_rose, 100, 0.75), (self.buyer_tulip, 40, 0.50)]
        )
        so = po.k2k_sale_order_id
        self.assertTrue(so, "confirming the PO creates the vendor's K2K order")
        self.assertEqual(so.company_id, self.vendor)
        self.assertEqual(so.partner_id, self.buyer.partner_id)
        self.assertEqual(so.client_order_ref, po.name)
        self.assertEqual(so.currency_id, po.currency_id)
        self.assertEqual(so.k2k_purchase_order_id, po)
        self.assertEqual(po.k2k_sale_order_ref, so.name)
        self.assertTrue(po.is_k2k_order and so.is_k2k_order)
        self.assertEqual(
            [
                (line.product_id, line.product_uom_qty, line.price_unit)
                for line in so.order_line
            ],
            # The vendor's price list prices the order; the buyer's price
            # is kept beside it (see test_k2k_units_prices.py).
            [(self.vendor_rose, 100, 0.80), (self.vendor_tulip, 40, 0.50)],
        )
        self.assertEqual(so.order_line.mapped("k2k_buyer_price_unit"), [0.75, 0.50])
        self.assertEqual(so.order_line.mapped("k2k_price_differs"), [True, False])
        self.assertEqual(
            so.order_line.mapped("k2k_purchase_line_ref"),
            po.order_line.mapped("k2k_line_uid"),
        )
        self.assertEqual(so.state, "draft", "the vendor confirms the order itself")
        # Filterable on both sides.
        self.assertIn(
            po, self.env["purchase.order"].search([("is_k2k_order", "=", True)])
        )
        self.assertIn(so, self.env["sale.order"].search([("is_k2k_order", "=", True)]))
        message = self.env["k2k.message"].search(
            [("res_model", "=", "purchase.order"), ("res_id", "=", po.id)]
        )
        self.assertEqual(message.state, "applied")
        self.assertEqual(message.partner_document_ref, so)
        self.assertEqual(message.partner_reference, so.name)

    def test_unmatched_product_stops_confirmation(self):
        stranger = self.env["product.product"].create(
            {"name": "Mystery Orchid", "company_id": self.buyer.id, "type": "consu"}
        )
        po = self._buyer_po(
            [(self.buyer_rose, 10, 0.8), (stranger, 5, 2.0)], confirm=False
        )
        orders_before = self.env["sale.order"].search_count([])
        with self.assertRaisesRegex(UserError, "Mystery Orchid"), self.cr.savepoint():
            po.button_confirm()
        po.invalidate_recordset()
        self.assertEqual(po.state, "draft")
        self.assertFalse(po.k2k_sale_order_ref)
        self.assertEqual(self.env["sale.order"].search_count([]), orders_before)

    def test_shared_product_matches_itself(self):
        shared = self.env["product.product"].create(
            {"name": "Eucalyptus (shared)", "type": "consu", "company_id": False}
        )
        po = self._buyer_po([(shared, 3, 1.5)])
        self.assertEqual(po.k2k_sale_order_id.order_line.product_id, shared)

    def test_other_vendor_and_inactive_connection_make_no_k2k_order(self):
        other_vendor = self.env["res.partner"].create({"name": "Local Farm"})
        po = (
            self.env["purchase.order"]
            .with_company(self.buyer)
            .create(
                {
                    "partner_id": other_vendor.id,
                    "company_id": self.buyer.id,
                    "order_line": [
                        (0, 0, {"product_id": self.buyer_rose.id, "product_qty": 1})
                    ],
                }
            )
        )
        po.button_confirm()
        self.assertFalse(po.is_k2k_order)
        self.connection.action_suspend()
        po2 = self._buyer_po([(self.buyer_rose, 1, 0.8)])
        self.assertFalse(po2.is_k2k_order)

    def test_cancel_po_cancels_unconfirmed_k2k_order(self):
        po = self._buyer_po([(self.buyer_rose, 10, 0.8)])
        so = po.k2k_sale_order_id
        po.button_cancel()
        self.assertEqual(po.state, "cancel")
        self.assertEqual(so.state, "cancel")

    def test_cancel_po_refused_once_vendor_confirmed(self):
        po = self._buyer_po([(self.buyer_rose, 10, 0.8)])
        so = po.k2k_sale_order_id
        so.with_company(self.vendor).action_confirm()
        with self.assertRaisesRegex(UserError, "already confirmed K2K order"):
            po.button_cancel()
        self.assertEqual(po.state, "purchase")
        self.assertEqual(so.state, "sale")
