# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class SaleOrderLine(models.Model):
    _name = "sale.order.line"
    _inherit = ["sale.order.line", "k2k.guarded.mixin"]

    k2k_purchase_line_ref = fields.Char(
        string="Buyer's Purchase Order Line",
        readonly=True,
        copy=False,
        help="Identifies the buyer's purchase order line this line sells.",
    )
    k2k_downpayment_ref = fields.Char(
        string="Buyer's Down Payment Line",
        readonly=True,
        copy=False,
        help="Identifies, for a down payment, the buyer's purchase order "
        "down-payment line it becomes, which the final invoice deducts.",
    )

    def write(self, vals):
        result = super().write(vals)
        if any(field in vals for field in self._k2k_get_answered_fields()):
            self.order_id.filtered(lambda o: o.state == "sale")._k2k_answer_buyer()
        return result

    def _k2k_get_answered_fields(self):
        """Fields of a confirmed K2K order's lines that the buyer hears of."""
        return ("product_uom_qty", "price_unit", "discount")
