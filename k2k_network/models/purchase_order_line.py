# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class PurchaseOrderLine(models.Model):
    _name = "purchase.order.line"
    _inherit = ["purchase.order.line", "k2k.guarded.mixin"]

    k2k_line_uid = fields.Char(
        string="K2K Line Reference",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Names this line, inside its K2K connection, in the vendor's order "
        "and invoice.",
    )

    @api.model
    def _k2k_find_sent_lines(self, connection, refs):
        """The lines ``refs`` name, among those of the orders sent through
        ``connection`` only."""
        refs = [ref for ref in refs if ref]
        if not refs:
            return self.browse()
        return self.search(
            [
                ("k2k_line_uid", "in", refs),
                ("order_id.k2k_connection_id", "=", connection.id),
                ("company_id", "=", connection.buyer_company_id.id),
            ]
        )
