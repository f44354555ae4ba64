# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "k2k.order.mixin"]

    k2k_document_uid = fields.Char(readonly=True, copy=False, index="btree_not_null")
    k2k_purchase_order_id = fields.Many2one(
        "purchase.order",
        string="Buyer's Purchase Order",
        compute="_compute_k2k_purchase_order_id",
        help="The buyer's purchase order, when the buyer is in this database.",
    )

    _sql_constraints = [
        (
            "k2k_document_uid_uniq",
            "UNIQUE(k2k_connection_id, k2k_document_uid)",
            "This purchase order already has a K2K order.",
        ),
    ]

    def _compute_k2k_purchase_order_id(self):
        counterparts = self.env["k2k.message"]._k2k_get_counterparts(self, sent=False)
        for order in self:
            order.k2k_purchase_order_id = counterparts.get(order.id, False)

    def action_k2k_open_purchase_order(self):
        self.ensure_one()
        return self.k2k_purchase_order_id._get_records_action(
            name=self.env._("Buyer's Purchase Order")
        )
