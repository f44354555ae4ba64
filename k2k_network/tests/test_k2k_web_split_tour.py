# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestK2KWebSplitTour(HttpCase):
    """Through the real shop, in Chromium: a visitor's purchase gets a
    purchase order of its own at the K2K vendor."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        demo_provider = env.ref(
            "payment.payment_provider_demo", raise_if_not_found=False
        )
        assert demo_provider and demo_provider.module_id.state == "installed", (
            "The shop tour pays with Odoo's demo payment provider: install "
            "payment_demo in the test database (./scripts/test.sh does)."
        )
        demo_provider.write({"state": "test", "is_published": True})
        cls.website = env.ref("website.default_website")
        cls.buyer = cls.website.company_id
        cls.vendor = env["res.company"].create({"name": "Tour Vendor"})
        connection = env["k2k.connection"].create(
            {"vendor_company_id": cls.vendor.id, "buyer_company_id": cls.buyer.id}
        )
        connection.action_accept_as_vendor()
        connection.action_accept_as_buyer()
        cls.buyer.k2k_split_ecommerce_po_enabled = True
        mto = env.ref("stock.route_warehouse0_mto")
        mto.active = True
        buy = env.ref("purchase_stock.route_warehouse0_buy")
        cls.rose = env["product.product"].create(
            {
                "name": "K2K Tour Rose",
                "type": "consu",
                "list_price": 4.0,
                "company_id": cls.buyer.id,
                "website_published": True,
                "route_ids": [Command.set((mto | buy).ids)],
                "seller_ids": [
                    Command.create(
                        {
                            "partner_id": cls.vendor.partner_id.id,
                            "product_code": "TOUR-ROSE",
                            "price": 1.5,
                            "company_id": cls.buyer.id,
                        }
                    )
                ],
            }
        )
        # An open back-office draft PO to the same vendor: without the
        # automation the web order's need would join it.
        cls.office_po = env["purchase.order"].create(
            {
                "partner_id": cls.vendor.partner_id.id,
                "company_id": cls.buyer.id,
                "order_line": [
                    Command.create({"product_id": cls.rose.id, "product_qty": 50})
                ],
            }
        )

    def test_visitor_purchase_gets_its_own_purchase_order(self):
        self.start_tour("/shop", "k2k_network_web_split", timeout=180)
        order = self.env["sale.order"].search(
            [
                ("website_id", "=", self.website.id),
                ("order_line.product_id", "=", self.rose.id),
            ]
        )
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "sale", "paid in the shop, so confirmed")
        po = self.env["purchase.order"].search(
            [("k2k_web_sale_order_id", "=", order.id)]
        )
        self.assertEqual(len(po), 1)
        self.assertEqual(po.partner_id, self.vendor.partner_id)
        self.assertEqual(po.origin, order.name)
        self.assertEqual(po.order_line.product_id, self.rose)
        self.assertEqual(po.order_line.product_qty, 1)
        self.assertEqual(
            self.office_po.order_line.mapped("product_qty"),
            [50],
            "the back-office PO is untouched",
        )
