# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup, escape

from odoo import fields, models
from odoo.exceptions import UserError


class PurchaseOrder(models.Model):
    _name = "purchase.order"
    _inherit = ["purchase.order", "k2k.order.mixin"]

    k2k_sale_order_ref = fields.Char(
        string="Vendor's K2K Order",
        readonly=True,
        copy=False,
        help="The sale order the vendor made for this purchase order.",
    )
    k2k_sale_order_id = fields.Many2one(
        "sale.order",
        compute="_compute_k2k_sale_order_id",
        help="The vendor's sale order, when the vendor is in this database.",
    )
    k2k_vendor_state = fields.Selection(
        [
            ("confirmed", "Confirmed by Vendor"),
            ("changed", "Changed by Vendor"),
            ("cancelled", "Cancelled by Vendor"),
        ],
        string="Vendor's Answer",
        readonly=True,
        copy=False,
        index="btree_not_null",
        tracking=True,
        help="What the vendor answered to this K2K order; each change is "
        "listed in the chatter.",
    )
    k2k_vendor_revision = fields.Integer(readonly=True, copy=False)
    k2k_shipment_revision = fields.Integer(readonly=True, copy=False)
    k2k_vendor_attention = fields.Boolean(
        string="Vendor Change Not Applied",
        readonly=True,
        copy=False,
        help="The vendor changed or cancelled lines already received or "
        "billed: they were left as they are, for a person to decide.",
    )
    k2k_web_sale_order_id = fields.Many2one(
        "sale.order",
        string="Web Order",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The web-shop order this purchase order was made for alone "
        "(automation 3: separate purchase orders for e-commerce purchases).",
    )

    def _compute_k2k_sale_order_id(self):
        counterparts = self.env["k2k.message"]._k2k_get_counterparts(self, sent=True)
        for order in self:
            order.k2k_sale_order_id = counterparts.get(order.id, False)

    def _k2k_get_connection(self):
        """The active connection through which this order is bought."""
        self.ensure_one()
        return self.env["k2k.connection"]._get_active_for_supplier(
            self.company_id, self.partner_id
        )

    def button_approve(self, force=False):
        result = super().button_approve(force=force)
        for order in self.filtered(lambda o: o.state in ("purchase", "done")):
            if order.k2k_sale_order_ref or order.k2k_connection_id:
                continue  # already sent (or on its way)
            connection = order._k2k_get_connection()
            if connection:
                order._k2k_send_order(connection)
        return result

    def button_cancel(self):
        # An order the vendor cancelled needs no cancellation sent back.
        for order in self.filtered(
            lambda o: o.k2k_connection_id and o.k2k_vendor_state != "cancelled"
        ):
            order._k2k_send_order_message(order.k2k_connection_id, "order_cancel")
        return super().button_cancel()

    def action_k2k_clear_vendor_attention(self):
        """A purchase user has dealt with the vendor's change."""
        if not self.env.user.has_group("purchase.group_purchase_user"):
            raise UserError(
                self.env._("Only purchase users can mark a vendor change as handled.")
            )
        self.check_access("write")
        self.sudo().k2k_vendor_attention = False
        for order in self:
            order._message_log(
                body=self.env._(
                    "Vendor change handled by %(user)s.", user=self.env.user.name
                )
            )

    # -- K2K order messages ------------------------------------------------

    def _k2k_send_order_message(self, connection, message_type):
        """Send an order message through ``connection`` now; raise with the
        receiver's reason unless it was applied or, the partner being out of
        reach, left in the queue."""
        self.ensure_one()
        payloads = None
        if message_type == "order_cancel":
            payloads = {self.id: {"purchase_order_name": self.name}}
        message = self.env["k2k.message"]._k2k_enqueue(
            connection, message_type, self, payloads
        )
        message._k2k_send()
        # "queued": the partner is out of reach, the queue delivers it later.
        if message.state not in ("applied", "queued"):
            raise UserError(message.state_detail or message.state)
        return message

    def _k2k_send_order(self, connection):
        message = self._k2k_send_order_message(connection, "order")
        if message.state == "queued":
            self._message_log(
                body=self.env._(
                    "%(vendor)s cannot be reached now: the K2K order will be "
                    "sent as soon as it can (see the Synchronization Log).",
                    vendor=connection._get_vendor_display_name(),
                )
            )

    def _k2k_note_bill_received(self, bill, invoice_number):
        """The vendor's invoice reached these orders as ``bill``."""
        if not self:
            return
        template = self.env._(
            "Vendor bill %(bill)s received through K2K for invoice %(number)s."
        )
        body = Markup(escape(template)) % {
            "bill": bill._get_html_link(),
            "number": invoice_number,
        }
        self._message_log_batch(dict.fromkeys(self.ids, body))

    def action_k2k_open_sale_order(self):
        self.ensure_one()
        if not self.k2k_sale_order_id:
            raise UserError(
                self.env._(
                    "K2K order %(order)s is in the vendor's own database.",
                    order=self.k2k_sale_order_ref,
                )
            )
        return self.k2k_sale_order_id._get_records_action(name=self.env._("K2K Order"))
