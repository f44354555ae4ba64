# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class K2KOrderMixin(models.AbstractModel):
    """What marks an order, on either side, as a K2K order."""

    _name = "k2k.order.mixin"
    _inherit = "k2k.guarded.mixin"
    _description = "K2K Order Mixin"

    k2k_connection_id = fields.Many2one(
        "k2k.connection",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    is_k2k_order = fields.Boolean(
        string="K2K Order",
        compute="_compute_is_k2k_order",
        store=True,
    )

    @api.depends("k2k_connection_id")
    def _compute_is_k2k_order(self):
        for order in self:
            order.is_k2k_order = bool(order.k2k_connection_id)
