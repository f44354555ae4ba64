# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .common import add_company_users


class K2KFlowCommon(AccountTestInvoicingCommon):
    """A vendor and a buyer company with charts of accounts, connected and
    opted in, a product the buyer buys from the vendor under the vendor's
    code, and helpers to walk an order through both companies."""

    @classmethod
    def setup_independent_company(cls, **kwargs):
        # The vendor is the database's own company, whose chart of accounts
        # is loaded already: one chart less to load per class.
        return None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vendor = cls.company_data["company"]
        cls.vendor.name = "Bloom Test Imports"
        cls.buyer_data = cls.setup_other_company(name="Petal Test Wholesale")
        cls.buyer = cls.buyer_data["company"]
        # The K2K user's own company is neither side's (its data file gives
        # it the database's own, the vendor's here): what it makes for a
        # side without saying for which company would land there and show.
        elsewhere = cls.env["res.company"].create({"name": "K2K Test Elsewhere"})
        cls.env.ref("k2k_network.user_k2k").sudo().write(
            {"company_ids": [Command.set(elsewhere.ids)], "company_id": elsewhere.id}
        )
        cls.env.user.write(
            {
                "company_ids": [Command.link(cls.buyer.id)],
                "groups_id": [
                    Command.link(cls.env.ref("purchase.group_purchase_manager").id),
                    Command.link(cls.env.ref("sales_team.group_sale_manager").id),
                    Command.link(cls.env.ref("stock.group_stock_manager").id),
                    Command.link(cls.env.ref("base.group_system").id),
                ],
            }
        )
        cls.env = cls.env(
            context=dict(
                cls.env.context, allowed_company_ids=[cls.vendor.id, cls.buyer.id]
            )
        )
        cls.connection = cls.env["k2k.connection"].create(
            {"vendor_company_id": cls.vendor.id, "buyer_company_id": cls.buyer.id}
        )
        cls.connection.action_accept_as_vendor()
        cls.connection.action_accept_as_buyer()
        cls.vendor.k2k_invoice_sync_enabled = True
        cls.buyer.k2k_invoice_upload_enabled = True

        cls.vendor_rose = cls._k2k_vendor_product(
            "Rose Freedom 50 cm", "V-ROSE-50", 0.80
        )
        cls.vendor_tulip = cls._k2k_vendor_product("Tulip Strong Gold", "V-TULIP", 0.50)
        cls.buyer_rose = cls._k2k_buyer_product("Red Rose 50", "V-ROSE-50", 0.80)
        cls.buyer_tulip = cls._k2k_buyer_product("Yellow Tulip", "V-TULIP", 0.50)

    @classmethod
    def _k2k_vendor_product(cls, name, code, price):
        return cls.env["product.product"].create(
            {
                "name": name,
                "default_code": code,
                "company_id": cls.vendor.id,
                "type": "consu",
                "list_price": price,
                "invoice_policy": "delivery",
                "taxes_id": [Command.set(cls.company_data["default_tax_sale"].ids)],
                "property_account_income_id": cls.company_data[
                    "default_account_revenue"
                ].id,
            }
        )

    @classmethod
    def _k2k_buyer_product(cls, name, vendor_code, price):
        product = cls.env["product.product"].create(
            {
                "name": name,
                "company_id": cls.buyer.id,
                "type": "consu",
                "purchase_method": "receive",
                "supplier_taxes_id": [
                    Command.set(cls.buyer_data["default_tax_purchase"].ids)
                ],
            }
        )
        cls.env["product.supplierinfo"].create(
            {
                "partner_id": cls.vendor.partner_id.id,
                "product_tmpl_id": product.product_tmpl_id.id,
                "product_code": vendor_code,
                "price": price,
                "company_id": cls.buyer.id,
            }
        )
        return product

    @classmethod
    def _k2k_agree_prices(cls, prices):
        """The vendor's price list for this buyer with the prices agreed with
        it (``{vendor product: price}``), below its list prices, as a vendor
        that sells at agreed prices has it."""
        pricelist = cls.env["product.pricelist"].create(
            {
                "name": "Agreed with Petal",
                "company_id": cls.vendor.id,
                "currency_id": cls.vendor.currency_id.id,
                "item_ids": [
                    Command.create(
                        {
                            "applied_on": "0_product_variant",
                            "product_id": product.id,
                            "compute_price": "fixed",
                            "fixed_price": price,
                        }
                    )
                    for product, price in prices.items()
                ],
            }
        )
        cls.buyer.partner_id.with_company(
            cls.vendor
        ).property_product_pricelist = pricelist
        return pricelist

    # -- walking the flow --------------------------------------------------

    def _buyer_po(self, lines, confirm=True, currency=None):
        po = (
            self.env["purchase.order"]
            .with_company(self.buyer)
            .create(
                {
                    "partner_id": self.vendor.partner_id.id,
                    "company_id": self.buyer.id,
                    "currency_id": (currency or self.buyer.currency_id).id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_qty": qty,
                                "price_unit": price,
                            }
                        )
                        for product, qty, price in lines
                    ],
                }
            )
        )
        if confirm:
            po.button_confirm()
        return po

    def _validate_pickings(self, pickings, quantities=None):
        for picking in pickings.filtered(lambda p: p.state not in ("done", "cancel")):
            for move in picking.move_ids:
                move.quantity = (quantities or {}).get(
                    move.product_id, move.product_uom_qty
                )
            picking.button_validate()

    def _vendor_invoice(self, sale_order, post=True):
        sale_order = sale_order.with_company(self.vendor)
        if sale_order.state in ("draft", "sent"):
            sale_order.action_confirm()
        self._validate_pickings(sale_order.picking_ids)
        invoice = sale_order._create_invoices()
        if post:
            invoice.action_post()
        return invoice

    @classmethod
    def _add_buyer_staff(cls):
        """The buyer's people a bill passes: procurement, which approves it
        (``cls.purchaser``), and accounting, which books it
        (``cls.ap_clerk``)."""
        add_company_users(
            cls,
            cls.buyer,
            purchaser="purchase.group_purchase_user,account.group_account_invoice",
            ap_clerk="account.group_account_invoice",
        )

    def _revise(self, invoice, price):
        """The vendor changes the price of the invoice's first line and
        posts it again: its next revision."""
        invoice.button_draft()
        invoice.invoice_line_ids[0].price_unit = price
        invoice.action_post()

    def _process(self, pdf=False):
        """One run of the scheduled action. Invoices travel without their
        PDF (Odoo's test mode renders HTML, which stays behind), unless
        ``pdf``: then wkhtmltopdf renders real ones, as outside tests."""
        self.env["k2k.message"].with_context(
            force_report_rendering=pdf
        )._cron_process_messages()

    def _bill_of(self, vendor_move):
        uids = vendor_move.k2k_message_ids.mapped("document_uid")
        return self.env["account.move"].search(
            [("k2k_document_uid", "in", uids), ("company_id", "=", self.buyer.id)]
        )

    def _full_flow(self, lines=None, receive=True, pdf=False):
        """PO -> K2K order -> delivery -> posted invoice -> processed (with
        its real PDF when ``pdf``)."""
        po = self._buyer_po(
            lines or [(self.buyer_rose, 100, 0.80), (self.buyer_tulip, 50, 0.50)]
        )
        if receive:
            self._validate_pickings(po.picking_ids)
        invoice = self._vendor_invoice(po.k2k_sale_order_id)
        self._process(pdf=pdf)
        return po, invoice, self._bill_of(invoice)
