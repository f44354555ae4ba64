# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    k2k_line_uid = fields.Char(
        string="K2K Line Reference",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Names this line, inside its K2K connection, in the vendor's order "
        "and invoice.",
    )
