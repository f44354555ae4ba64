# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class StockPicking(models.Model):
    _name = "stock.picking"
    _inherit = ["stock.picking", "k2k.guarded.mixin"]

    # -- buyer side: a receipt the vendor's shipment notice prepared ---------
    k2k_shipment_ref = fields.Char(
        string="Vendor's Shipment",
        readonly=True,
        copy=False,
        help="The vendor's delivery whose goods this receipt expects.",
    )
    k2k_tracking_ref = fields.Char(
        string="Vendor's Tracking Reference", readonly=True, copy=False
    )

    def _action_done(self):
        result = super()._action_done()
        self._k2k_notify_shipment()
        self._k2k_notify_return()
        return result

    # -- vendor side: tell the buyer what was shipped ------------------------

    def _k2k_notify_shipment(self):
        """Queue a shipment notice for the K2K orders whose deliveries among
        ``self`` are done (built as it leaves). Who validates a delivery may
        not read its sale order (a salesperson's own orders only): which
        orders are K2K orders is read as the superuser, and nothing else."""
        Message = self.env["k2k.message"]
        shipped = self.sudo().filtered(
            lambda p: p.state == "done"
            and p.picking_type_code == "outgoing"
            and p.sale_id.k2k_connection_id
            and p.sale_id.k2k_document_uid
        )
        orders = shipped.sale_id
        for connection, k2k_orders in orders.grouped("k2k_connection_id").items():
            Message._k2k_enqueue(connection, "shipment", k2k_orders)

    # -- buyer side: tell the vendor what was returned -----------------------

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

    def _k2k_get_tracking_ref(self):
        """The carrier's tracking reference, where Odoo's delivery module
        keeps one."""
        self.ensure_one()
        if "carrier_tracking_ref" in self._fields:
            return self.carrier_tracking_ref or False
        return False
