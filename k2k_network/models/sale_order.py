# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


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
    k2k_price_differs = fields.Boolean(
        string="Price Differs from the Buyer's",
        compute="_compute_k2k_price_differs",
        store=True,
        help="A line's price or discount is not the one on the buyer's purchase "
        "order: settle it with the buyer.",
    )

    _sql_constraints = [
        (
            "k2k_document_uid_uniq",
            "UNIQUE(k2k_connection_id, k2k_document_uid)",
            "This purchase order already has a K2K order.",
        ),
    ]

    def action_confirm(self):
        result = super().action_confirm()
        self._k2k_answer_buyer()
        return result

    def _action_cancel(self):
        # Only a confirmed order was answered: a draft one the buyer cancels
        # itself needs no answer.
        answered = self.filtered(lambda o: o.state == "sale")
        result = super()._action_cancel()
        answered._k2k_answer_buyer()
        return result

    def _k2k_answer_buyer(self):
        """Tell the buyers of these K2K orders how the vendor will deliver
        them (the queue builds the answer as it leaves)."""
        Message = self.env["k2k.message"]
        received = self.filtered(lambda o: o.k2k_connection_id and o.k2k_document_uid)
        for connection, orders in received.grouped("k2k_connection_id").items():
            Message._k2k_enqueue(connection, "order_answer", orders)

    @api.depends("order_line.k2k_price_differs")
    def _compute_k2k_price_differs(self):
        for order in self:
            order.k2k_price_differs = any(order.order_line.mapped("k2k_price_differs"))

    def _compute_k2k_purchase_order_id(self):
        counterparts = self.env["k2k.message"]._k2k_get_counterparts(self, sent=False)
        for order in self:
            order.k2k_purchase_order_id = counterparts.get(order.id, False)

    def action_k2k_open_purchase_order(self):
        self.ensure_one()
        return self.k2k_purchase_order_id._get_records_action(
            name=self.env._("Buyer's Purchase Order")
        )
