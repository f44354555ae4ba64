# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .common_web import K2KWebSplitCommon


@tagged("post_install", "-at_install")
class TestK2KWebSplit(K2KWebSplitCommon):
    """Automation 3: each web order gets purchase orders of its own."""

    def test_two_web_orders_two_purchase_orders(self):
        first = self._order([(self.buyer_rose, 10), (self.buyer_tulip, 5)])
        second = self._order([(self.buyer_rose, 3)])
        pos = self._pos()
        self.assertEqual(len(pos), 2)
        po_first = pos.filtered(lambda po: po.k2k_web_sale_order_id == first)
        po_second = pos.filtered(lambda po: po.k2k_web_sale_order_id == second)
        self.assertEqual(
            po_first.order_line.product_id, self.buyer_rose | self.buyer_tulip
        )
        self.assertEqual(po_first.order_line.mapped("product_qty"), [10, 5])
        self.assertEqual(po_first.origin, first.name)
        self.assertEqual(po_second.order_line.product_qty, 3)
        self.assertEqual(first.purchase_order_count, 1)

    def test_automation_off_consolidates_as_odoo_does(self):
        self.buyer.k2k_split_ecommerce_po_enabled = False
        self._order([(self.buyer_rose, 10)])
        self._order([(self.buyer_rose, 3)])
        pos = self._pos()
        self.assertEqual(len(pos), 1)
        self.assertEqual(pos.order_line.product_qty, 13)
        self.assertFalse(pos.k2k_web_sale_order_id)

    def test_web_po_stays_alone_after_automation_off(self):
        web = self._order([(self.buyer_rose, 10)])
        web_po = self._pos()
        self.buyer.k2k_split_ecommerce_po_enabled = False
        self._order([(self.buyer_rose, 3)])
        self._order([(self.buyer_tulip, 4)], web=False)
        self.assertEqual(web_po.k2k_web_sale_order_id, web)
        self.assertEqual(
            web_po.order_line.mapped("product_qty"),
            [10],
            "nothing joins the purchase order of a web order",
        )
        # What comes after consolidates as Odoo does, in an order of its own.
        others = self._pos() - web_po
        self.assertEqual(len(others), 1)
        self.assertEqual(others.order_line.mapped("product_qty"), [3, 4])
        self.assertFalse(others.k2k_web_sale_order_id)

    def test_web_and_back_office_orders_stay_apart(self):
        web = self._order([(self.buyer_rose, 10)])
        office_1 = self._order([(self.buyer_rose, 4)], web=False)
        office_2 = self._order([(self.buyer_tulip, 6)], web=False)
        pos = self._pos()
        web_po = pos.filtered("k2k_web_sale_order_id")
        self.assertEqual(web_po.k2k_web_sale_order_id, web)
        self.assertEqual(web_po.order_line.product_qty, 10)
        # Back-office needs still consolidate among themselves.
        office_po = pos - web_po
        self.assertEqual(len(office_po), 1)
        self.assertEqual(office_po.order_line.mapped("product_qty"), [4, 6])
        self.assertIn(office_1.name, office_po.origin)
        self.assertIn(office_2.name, office_po.origin)

    def test_web_order_with_two_k2k_vendors(self):
        other_vendor = self.env["res.company"].create({"name": "Second Vendor"})
        connection = self.env["k2k.connection"].create(
            {"vendor_company_id": other_vendor.id, "buyer_company_id": self.buyer.id}
        )
        connection.action_accept_as_vendor()
        connection.action_accept_as_buyer()
        self.buyer_tulip.seller_ids.partner_id = other_vendor.partner_id
        web = self._order([(self.buyer_rose, 2), (self.buyer_tulip, 7)])
        self._order([(self.buyer_rose, 1), (self.buyer_tulip, 1)])
        for partner, product, qty in (
            (self.vendor.partner_id, self.buyer_rose, 2),
            (other_vendor.partner_id, self.buyer_tulip, 7),
        ):
            po = self._pos(partner).filtered(lambda p: p.k2k_web_sale_order_id == web)
            self.assertEqual(len(po), 1)
            self.assertEqual(po.order_line.product_id, product)
            self.assertEqual(po.order_line.product_qty, qty)
        self.assertEqual(web.purchase_order_count, 2)

    def test_non_k2k_vendor_unchanged(self):
        self._order([(self.buyer_lily, 2)])
        self._order([(self.buyer_lily, 3)])
        farm_pos = self._pos(self.farm)
        self.assertEqual(
            len(farm_pos), 1, "consolidation unchanged for a non-K2K vendor"
        )
        self.assertEqual(farm_pos.order_line.product_qty, 5)
        self.assertFalse(farm_pos.k2k_web_sale_order_id)

    def test_quantity_raised_goes_to_its_own_po(self):
        first = self._order([(self.buyer_rose, 10)])
        second = self._order([(self.buyer_rose, 3)])
        first.order_line.product_uom_qty = 15
        pos = self._pos()
        self.assertEqual(len(pos), 2)
        po_first = pos.filtered(lambda po: po.k2k_web_sale_order_id == first)
        po_second = pos.filtered(lambda po: po.k2k_web_sale_order_id == second)
        self.assertEqual(sum(po_first.order_line.mapped("product_qty")), 15)
        self.assertEqual(po_second.order_line.product_qty, 3)

    def test_quantity_lowered_touches_no_other_po(self):
        first = self._order([(self.buyer_rose, 10), (self.buyer_tulip, 5)])
        second = self._order([(self.buyer_rose, 3), (self.buyer_tulip, 2)])
        first.order_line.filtered(
            lambda line: line.product_id == self.buyer_tulip
        ).product_uom_qty = 0
        pos = self._pos()
        po_second = pos.filtered(lambda po: po.k2k_web_sale_order_id == second)
        self.assertEqual(po_second.order_line.mapped("product_qty"), [3, 2])
        po_first = pos.filtered(lambda po: po.k2k_web_sale_order_id == first)
        self.assertEqual(len(pos), 2)
        tulip_line = po_first.order_line.filtered(
            lambda line: line.product_id == self.buyer_tulip
        )
        self.assertEqual(
            tulip_line.product_qty, 0, "the cancelled need leaves its own PO"
        )
