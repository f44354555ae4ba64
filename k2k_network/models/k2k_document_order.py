# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup

from odoo import Command, api, models
from odoo.exceptions import UserError
from odoo.tools import format_amount, formatLang

from .. import wire


class K2KDocumentOrder(models.AbstractModel):
    """K2K orders, buyer -> vendor: the buyer's confirmed purchase order
    becomes the vendor's sale order (the K2K order); its cancellation cancels
    that order while the vendor has not confirmed it."""

    _name = "k2k.document.order"
    _inherit = "k2k.document"
    _description = "K2K Order Adapter"

    @api.model
    def _k2k_get_message_types(self):
        return {
            **super()._k2k_get_message_types(),
            "order": self.env._("K2K Order"),
            "order_cancel": self.env._("K2K Order Cancellation"),
        }

    # ======================================================================
    # Export (buyer side)
    # ======================================================================

    @api.model
    def _k2k_get_message_name(self, message_type, record):
        if message_type == "order_cancel":
            return self.env._("Cancellation of order %(order)s", order=record.name)
        return self.env._("Order %(order)s", order=record.name)

    @api.model
    def _k2k_on_enqueue(self, messages):
        for message in messages.filtered(lambda m: m.message_type == "order"):
            order = self.env["purchase.order"].browse(message.res_id)
            order.k2k_connection_id = message.connection_id

    @api.model
    def _k2k_prepare_messages(self, messages):
        for message in messages.filtered(
            lambda m: m.message_type == "order" and not m.payload
        ):
            order = self.env["purchase.order"].browse(message.res_id)
            message.payload = self._k2k_export_order(order, message.connection_id)

    @api.model
    def _k2k_export_order(self, order, connection):
        lines = order.order_line.filtered(lambda line: not line.display_type)
        # Each line is named by a reference that means nothing outside this
        # connection; the vendor's invoice names it back.
        for line in lines.filtered(lambda line: not line.k2k_line_uid):
            line.k2k_line_uid = wire.new_uid()
        return {
            "purchase_order_name": order.name,
            "currency": order.currency_id.name,
            "notes": order.notes or "",
            "lines": [self._k2k_export_order_line(line, connection) for line in lines],
        }

    @api.model
    def _k2k_get_vendor_code(self, line, connection):
        """The vendor's code of a product: the product code of its supplier
        info for the connection's vendor; for a product both companies share,
        its own internal reference."""
        vendor = connection.vendor_partner_id
        sellers = line.product_id.seller_ids.filtered(
            lambda s: s.partner_id.commercial_partner_id == vendor
            and s.company_id in (line.company_id, self.env["res.company"])
        )
        if sellers[:1].product_code:
            return sellers[:1].product_code
        if not line.product_id.company_id:
            return line.product_id.default_code or False
        return False

    @api.model
    def _k2k_export_order_line(self, line, connection):
        product = line.product_id
        return {
            "purchase_line_ref": line.k2k_line_uid,
            "vendor_code": self._k2k_get_vendor_code(line, connection),
            "shared_product_name": product.name if not product.company_id else False,
            "product_name": product.display_name,
            # The quantity and the price are in the line's unit.
            "quantity": line.product_qty,
            "price_unit": line.price_unit,
            "discount": line.discount,
            "uom": self._k2k_export_uom(line.product_uom),
        }

    @api.model
    def _k2k_on_outcome(self, message, outcome):
        """Link the vendor's order to the purchase order, or say why there
        is none."""
        if message.message_type != "order":
            return
        order = self.env["purchase.order"].browse(message.res_id)
        vendor = message.connection_id._get_vendor_display_name()
        if outcome["outcome"] == "applied":
            order.k2k_sale_order_ref = outcome.get("reference")
            order._message_log(
                body=self.env._(
                    "K2K order %(order)s created at %(vendor)s.",
                    order=outcome.get("reference"),
                    vendor=vendor,
                )
            )
        elif outcome["outcome"] == "failed":
            order._message_log(
                body=self.env._(
                    "%(vendor)s did not take the K2K order: %(reason)s",
                    vendor=vendor,
                    reason=outcome.get("detail"),
                )
            )

    # ======================================================================
    # Apply (vendor side)
    # ======================================================================

    @api.model
    def _k2k_find_order(self, connection, document_uid):
        return self._k2k_find_received("sale.order", connection, document_uid)

    @api.model
    def _k2k_match_products(self, connection, lines):
        """The vendor's product for each line of the buyer's purchase order
        (empty where none): by the vendor code against the vendor's internal
        reference (one search for all the lines), else a product both
        companies share, by its name when only one has it."""
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
        products = []
        for line in lines:
            product = by_code.get(line.get("vendor_code")) or Product
            if not product and line.get("shared_product_name"):
                shared = Product.search(
                    [
                        ("name", "=", line["shared_product_name"]),
                        ("company_id", "=", False),
                        ("sale_ok", "=", True),
                    ],
                    limit=2,
                )
                product = shared if len(shared) == 1 else Product
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
        # In the vendor's unit of its product, whatever the buyer buys in.
        line = self._k2k_convert_to_uom(line, product.uom_id, product)
        return {
            # The vendor's own description of its product, not the buyer's.
            "product_id": product.id,
            "product_uom": product.uom_id.id,
            "product_uom_qty": line["quantity"],
            # No price: the vendor's price list gives it, as for any order of
            # this customer. The buyer's is kept beside it, and a difference
            # is flagged for a person to settle.
            "k2k_buyer_price_unit": line["price_unit"],
            "k2k_buyer_discount": line.get("discount") or 0.0,
            "k2k_purchase_line_ref": line["purchase_line_ref"],
        }

    @api.model
    def _k2k_note_price_differences(self, order):
        """Log on the vendor's order the lines whose price is not the
        buyer's, for a person to settle."""
        lines = order.order_line.filtered("k2k_price_differs")
        if not lines:
            return
        items = [
            self.env._(
                "%(product)s: %(buyer)s less %(buyer_discount)s%% for the buyer, "
                "%(price)s less %(discount)s%% here",
                product=line.product_id.display_name,
                buyer=format_amount(
                    self.env, line.k2k_buyer_price_unit, line.currency_id
                ),
                buyer_discount=formatLang(self.env, line.k2k_buyer_discount),
                price=format_amount(self.env, line.price_unit, line.currency_id),
                discount=formatLang(self.env, line.discount),
            )
            for line in lines
        ]
        body = Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._(
                "The price of these lines differs from the buyer's: settle it "
                "with the buyer, or set the buyer's price."
            ),
            Markup().join(Markup("<li>%s</li>") % item for item in items),
        )
        order._message_log(body=body)

    @api.model
    def _k2k_get_salesperson(self, connection):
        """Who sells a K2K order at the vendor, by the vendor's own rules: the
        customer's salesperson (as Odoo's default), else the connection's
        responsible at the vendor; each only if someone of the vendor (in one
        database the buyer's partner is shared, and its salesperson may be
        the buyer's own). Never the K2K user who makes the order, nor whoever
        sent it. The sales team follows from the salesperson, as in Odoo."""
        customer = connection.buyer_partner_id.with_company(
            connection.vendor_company_id
        )
        return connection._k2k_get_responsible(
            "vendor", customer.user_id, customer.commercial_partner_id.user_id
        )

    @api.model
    def _k2k_prepare_order_vals(self, connection, envelope, products):
        payload = envelope["payload"]
        currency = self._k2k_get_currency(payload["currency"])
        return {
            "partner_id": connection.buyer_partner_id.id,
            "company_id": connection.vendor_company_id.id,
            # Given, even empty: Odoo's default is the customer's salesperson,
            # whichever company that user works for.
            "user_id": self._k2k_get_salesperson(connection).id,
            "client_order_ref": payload["purchase_order_name"],
            "origin": payload["purchase_order_name"],
            "pricelist_id": self._k2k_get_pricelist(connection, currency).id,
            "k2k_connection_id": connection.id,
            "k2k_document_uid": envelope["document_uid"],
            "note": payload.get("notes") or False,
            "order_line": [
                Command.create(self._k2k_prepare_order_line_vals(product, line))
                for product, line in zip(products, payload["lines"], strict=True)
            ],
        }

    @api.model
    def _k2k_check_products(self, connection, payload, products):
        unmatched = [
            line
            for product, line in zip(products, payload["lines"], strict=True)
            if not product
        ]
        if not unmatched:
            return
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

    @api.model
    def _k2k_apply_document(self, connection, envelope):
        payload = envelope["payload"]
        existing = self._k2k_find_order(connection, envelope["document_uid"])
        if existing:
            return self._k2k_outcome(
                "applied",
                self.env._("K2K order %(order)s already exists.", order=existing.name),
                existing,
                existing.name,
            )
        products = self._k2k_match_products(connection, payload["lines"])
        self._k2k_check_products(connection, payload, products)
        order = self.env["sale.order"].create(
            self._k2k_prepare_order_vals(connection, envelope, products)
        )
        order._message_log(
            body=self.env._(
                "K2K order from %(buyer)s's purchase order %(order)s.",
                buyer=connection._get_buyer_display_name(),
                order=payload["purchase_order_name"],
            )
        )
        self._k2k_note_price_differences(order)
        return self._k2k_outcome(
            "applied",
            self.env._("K2K order %(order)s created.", order=order.name),
            order,
            order.name,
        )

    @api.model
    def _k2k_apply_cancel(self, connection, envelope):
        order = self._k2k_find_order(connection, envelope["document_uid"])
        if not order or order.state == "cancel":
            return self._k2k_outcome("applied", self.env._("Nothing to cancel."))
        if order.state not in ("draft", "sent"):
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
        return self._k2k_outcome(
            "applied",
            self.env._("K2K order %(order)s cancelled.", order=order.name),
            order,
            order.name,
        )
