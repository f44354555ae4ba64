# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "k2k.order.mixin"]

    k2k_document_uid = fields.Char(readonly=True, copy=False, index="btree_not_null")
    k2k_purchase_order_id = fields.Many2one(
        "purchase.order",
        string="Buyer's Purchase Order",
        readonly=True,
        copy=False,
        help="The buyer's purchase order, when the buyer is in this database.",
    )

    _sql_constraints = [
        (
            "k2k_document_uid_uniq",
            "UNIQUE(company_id, k2k_document_uid)",
            "This purchase order already has a K2K order.",
        ),
    ]

    # -- vendor side: apply an order message -------------------------------

    @api.model
    def _k2k_match_products(self, connection, lines):
        """The vendor's product for each line of the buyer's purchase order
        (empty where none): by the buyer's vendor product code against the
        vendor's internal reference, else the very same product when both
        companies share it. One search for all the lines' codes."""
        Product = self.env["product.product"]
        company = connection.vendor_company_id
        codes = {line["vendor_code"] for line in lines if line.get("vendor_code")}
        by_code = {}
        if codes:
            for product in Product.search(
                [
                    ("default_code", "in", list(codes)),
                    ("company_id", "in", [company.id, False]),
                    ("sale_ok", "=", True),
                ]
            ):
                # The first in Odoo's product order, as a search per code.
                by_code.setdefault(product.default_code, product)
        shared = Product
        if connection.transport == "local":
            shared = Product.browse(
                [
                    line["shared_product_id"]
                    for line in lines
                    if line.get("shared_product_id")
                ]
            ).exists()
        products = []
        for line in lines:
            product = by_code.get(line.get("vendor_code")) or Product
            if not product and line.get("shared_product_id") in shared.ids:
                candidate = Product.browse(line["shared_product_id"])
                if not candidate.company_id and candidate.sale_ok:
                    product = candidate
            products.append(product)
        return products

    @api.model
    def _k2k_get_pricelist(self, connection, currency):
        company = connection.vendor_company_id
        partner_pricelist = connection.buyer_partner_id.with_company(
            company
        ).property_product_pricelist
        if partner_pricelist.currency_id == currency:
            return partner_pricelist
        Pricelist = self.env["product.pricelist"]
        pricelist = Pricelist.search(
            [
                ("currency_id", "=", currency.id),
                ("company_id", "in", [company.id, False]),
            ],
            limit=1,
        )
        if not pricelist:
            pricelist = Pricelist.create(
                {
                    "name": self.env._("K2K %(currency)s", currency=currency.name),
                    "currency_id": currency.id,
                    "company_id": company.id,
                }
            )
        return pricelist

    @api.model
    def _k2k_prepare_order_line_vals(self, product, line):
        return {
            # The vendor's own description of its product, not the buyer's.
            "product_id": product.id,
            "product_uom_qty": line["quantity"],
            "price_unit": line["price_unit"],
            "discount": line.get("discount") or 0.0,
            "k2k_purchase_line_ref": line["purchase_line_id"],
        }

    @api.model
    def _k2k_prepare_order_vals(self, connection, payload, products):
        currency = connection._k2k_get_currency(payload["currency"])
        vals = {
            "partner_id": connection.buyer_partner_id.id,
            "company_id": connection.vendor_company_id.id,
            "client_order_ref": payload["purchase_order_name"],
            "origin": payload["purchase_order_name"],
            "pricelist_id": self._k2k_get_pricelist(connection, currency).id,
            "k2k_connection_id": connection.id,
            "note": payload.get("notes") or False,
            "order_line": [
                Command.create(self._k2k_prepare_order_line_vals(product, line))
                for product, line in zip(products, payload["lines"], strict=True)
            ],
        }
        if connection.transport == "local":
            vals["k2k_purchase_order_id"] = payload["purchase_order_id"]
        return vals

    @api.model
    def _k2k_apply_order_envelope(self, connection, envelope):
        payload = envelope["payload"]
        existing = self.search(
            [
                ("k2k_document_uid", "=", envelope["document_uid"]),
                ("company_id", "=", connection.vendor_company_id.id),
            ],
            limit=1,
        )
        if existing:
            return self._k2k_order_outcome(existing, already=True)
        products = self._k2k_match_products(connection, payload["lines"])
        unmatched = [
            line
            for product, line in zip(products, payload["lines"], strict=True)
            if not product
        ]
        if unmatched:
            raise UserError(
                self.env._(
                    "%(vendor)s cannot match these products of %(order)s: "
                    "%(products)s. Give each product, in its vendor list for "
                    "%(vendor)s, the vendor's internal reference as vendor "
                    "product code.",
                    vendor=connection._get_vendor_display_name(),
                    order=payload["purchase_order_name"],
                    products=", ".join(
                        "{} ({})".format(
                            line["product_name"],
                            line.get("vendor_code") or self.env._("no vendor code"),
                        )
                        for line in unmatched
                    ),
                )
            )
        vals = self._k2k_prepare_order_vals(connection, payload, products)
        vals["k2k_document_uid"] = envelope["document_uid"]
        order = self.create(vals)
        order._message_log(
            body=self.env._(
                "K2K order from %(buyer)s's purchase order %(order)s.",
                buyer=connection._get_buyer_display_name(),
                order=payload["purchase_order_name"],
            )
        )
        return self._k2k_order_outcome(order)

    @api.model
    def _k2k_order_outcome(self, order, already=False):
        detail = (
            self.env._("K2K order %(order)s already exists.", order=order.name)
            if already
            else self.env._("K2K order %(order)s created.", order=order.name)
        )
        return {
            "outcome": "applied",
            "detail": detail,
            "sale_order_id": order.id,
            "sale_order_name": order.name,
        }

    @api.model
    def _k2k_apply_order_cancel_envelope(self, connection, envelope):
        order = self.search(
            [
                ("k2k_document_uid", "=", envelope["document_uid"]),
                ("company_id", "=", connection.vendor_company_id.id),
            ],
            limit=1,
        )
        if not order or order.state == "cancel":
            return {"outcome": "applied", "detail": self.env._("Nothing to cancel.")}
        if order.state != "draft" and order.state != "sent":
            raise UserError(
                self.env._(
                    "%(vendor)s has already confirmed K2K order %(order)s: ask "
                    "%(vendor)s to cancel it before you cancel this purchase order.",
                    vendor=connection._get_vendor_display_name(),
                    order=order.name,
                )
            )
        order._action_cancel()
        order._message_log(
            body=self.env._(
                "Cancelled because %(buyer)s cancelled purchase order %(order)s.",
                buyer=connection._get_buyer_display_name(),
                order=envelope["payload"].get("purchase_order_name"),
            )
        )
        return {
            "outcome": "applied",
            "detail": self.env._("K2K order %(order)s cancelled.", order=order.name),
        }

    def action_k2k_open_purchase_order(self):
        self.ensure_one()
        return self.k2k_purchase_order_id._get_records_action(
            name=self.env._("Buyer's Purchase Order")
        )
