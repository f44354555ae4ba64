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
