# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class StockRule(models.Model):
    _inherit = "stock.rule"

    def _k2k_get_web_sale_order(self, values):
        """The web-shop sale order a procurement comes from, if any."""
        sale_order = values.get("group_id") and values["group_id"].sale_id
        return (
            sale_order if sale_order and sale_order.website_id else sale_order.browse()
        )

    def _k2k_splits_purchase_orders(self, company_id, partner):
        """Automation 3: does ``company_id`` give web-shop purchases from
        ``partner`` purchase orders of their own?"""
        if not company_id.k2k_split_ecommerce_po_enabled:
            return False
        connection = self.env["k2k.connection"]._get_active_for_supplier(
            company_id, partner
        )
        return bool(connection)

    def _make_po_get_domain(self, company_id, values, partner):
        domain = super()._make_po_get_domain(company_id, values, partner)
        if self._k2k_splits_purchase_orders(company_id, partner):
            # One purchase order per web order and vendor: a web order's
            # needs only join its own order, and nothing else joins it.
            web_order = self._k2k_get_web_sale_order(values)
            domain += (("k2k_web_sale_order_id", "=", web_order.id or False),)
        return domain

    def _prepare_purchase_order(self, company_id, origins, values):
        vals = super()._prepare_purchase_order(company_id, origins, values)
        partner = values[0]["supplier"].partner_id
        if self._k2k_splits_purchase_orders(company_id, partner):
            web_order = self._k2k_get_web_sale_order(values[0])
            if web_order:
                vals["k2k_web_sale_order_id"] = web_order.id
                vals["origin"] = web_order.name
        return vals
