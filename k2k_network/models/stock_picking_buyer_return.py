# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    # -- buyer side: tell the vendor what was returned -----------------------

    def _action_done(self):
        result = super()._action_done()
        self._k2k_notify_return()
        return result

    def _k2k_notify_return(self):
        """Queue a return notice for the K2K purchase orders whose goods
        ``self`` sent back to the vendor (built as it leaves)."""
        # As the superuser: whoever may validate a return (a warehouse
        # user) need not be allowed to read its purchase order.
        returned = self.env["k2k.document.return"]._k2k_filter_return_moves(
            self.sudo().move_ids
        )
        orders = returned.purchase_line_id.order_id.filtered("k2k_connection_id")
        Message = self.env["k2k.message"].sudo()
        for connection, k2k_orders in orders.grouped("k2k_connection_id").items():
            Message._k2k_enqueue(connection, "return", k2k_orders)
