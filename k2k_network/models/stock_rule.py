# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class StockRule(models.Model):
    _inherit = "stock.rule"

    def _k2k_get_web_sale_order(self, values):
        """The web-shop sale order a procurement comes from, if any."""
        group = values.get("group_id")
        sale_order = group.sale_id if group else self.env["sale.order"]
        return sale_order.filtered("website_id")

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
        web_order = self.env["sale.order"]
        if self._k2k_splits_purchase_orders(company_id, partner):
            web_order = self._k2k_get_web_sale_order(values)
        if web_order and "grouping" in values:
            # OCA's procurement_purchase_no_grouping would spread one web
            # order over several purchase orders (one per need, or per
            # product category). Automation 3 promises one per web order and
            # vendor, so its needs are grouped as standard within it. Set in
            # place: that module reads the value after super() returns,
            # whichever of the two overrides runs first.
            values["grouping"] = "standard"
        domain = super()._make_po_get_domain(company_id, values, partner)
        # A web order's needs only join its own purchase order, and nothing
        # else ever joins that order: not while automation 3 is on, and not
        # after it is switched off either, or the order would stop being
        # that web order's alone while still saying it is.
        return domain + (("k2k_web_sale_order_id", "=", web_order.id),)

    def _prepare_purchase_order(self, company_id, origins, values):
        vals = super()._prepare_purchase_order(company_id, origins, values)
        partner = values[0]["supplier"].partner_id
        if self._k2k_splits_purchase_orders(company_id, partner):
            web_order = self._k2k_get_web_sale_order(values[0])
            if web_order:
                vals["k2k_web_sale_order_id"] = web_order.id
                vals["origin"] = web_order.name
        return vals
