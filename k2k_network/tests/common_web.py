# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command

from .common_flow import K2KFlowCommon


class K2KWebSplitCommon(K2KFlowCommon):
    """The buyer with automation 3 on, a web shop, the K2K products bought
    to order (make to order + buy), a supplier with no K2K connection, and
    helpers to confirm sale orders and find the purchase orders they made."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.buyer.k2k_split_ecommerce_po_enabled = True
        mto = cls.env.ref("stock.route_warehouse0_mto")
        mto.active = True
        buy = cls.env.ref("purchase_stock.route_warehouse0_buy")
        cls.mto_buy_routes = mto | buy
        (cls.buyer_rose | cls.buyer_tulip).write(
            {"route_ids": [Command.set(cls.mto_buy_routes.ids)]}
        )
        cls.website = cls.env["website"].create(
            {"name": "Petal Shop", "company_id": cls.buyer.id}
        )
        cls.customer = cls.env["res.partner"].create({"name": "Florist Anna"})
        # A supplier with no K2K connection, for the unchanged behaviour.
        cls.farm = cls.env["res.partner"].create({"name": "Local Farm"})
        cls.buyer_lily = cls.env["product.product"].create(
            {
                "name": "Lily",
                "company_id": cls.buyer.id,
                "type": "consu",
                "route_ids": [Command.set(cls.mto_buy_routes.ids)],
                "seller_ids": [
                    Command.create(
                        {
                            "partner_id": cls.farm.id,
                            "price": 1.0,
                            "company_id": cls.buyer.id,
                        }
                    )
                ],
            }
        )

    def _order(self, lines, web=True):
        order = (
            self.env["sale.order"]
            .with_company(self.buyer)
            .create(
                {
                    "partner_id": self.customer.id,
                    "company_id": self.buyer.id,
                    "website_id": self.website.id if web else False,
                    "order_line": [
                        Command.create(
                            {"product_id": product.id, "product_uom_qty": qty}
                        )
                        for product, qty in lines
                    ],
                }
            )
        )
        order.action_confirm()
        return order

    def _pos(self, partner=None):
        return self.env["purchase.order"].search(
            [
                ("company_id", "=", self.buyer.id),
                ("partner_id", "=", (partner or self.vendor.partner_id).id),
            ]
        )
