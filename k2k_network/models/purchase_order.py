# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
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
        readonly=True,
        copy=False,
        help="The vendor's sale order, when the vendor is in this database.",
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
        for order in self.filtered("k2k_connection_id"):
            order._k2k_send_order_cancellation()
        return super().button_cancel()

    # -- K2K order message -------------------------------------------------

    def _k2k_document_uid(self):
        self.ensure_one()
        dbuuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        return f"{dbuuid}/purchase.order/{self.id}"

    def _k2k_get_vendor_code(self, line, connection):
        """The vendor's code of a product: the product code of its supplier
        info for the connection's vendor, else its own internal reference."""
        vendor = connection.vendor_partner_id
        sellers = line.product_id.seller_ids.filtered(
            lambda s: s.partner_id.commercial_partner_id == vendor
            and s.company_id in (self.company_id, self.env["res.company"])
        )
        return sellers[:1].product_code or False

    def _k2k_prepare_order_line_payload(self, line, connection):
        product = line.product_id
        return {
            "purchase_line_id": line.id,
            "vendor_code": self._k2k_get_vendor_code(line, connection),
            "shared_product_id": product.id if not product.company_id else False,
            "product_name": product.display_name,
            "name": line.name,
            "quantity": line.product_qty,
            "uom": line.product_uom.name,
            "price_unit": line.price_unit,
            "discount": line.discount,
            "date_planned": fields.Datetime.to_string(line.date_planned),
        }

    def _k2k_prepare_order_payload(self, connection):
        self.ensure_one()
        return {
            "purchase_order_id": self.id,
            "purchase_order_name": self.name,
            "date_order": fields.Datetime.to_string(self.date_order),
            "currency": self.currency_id.name,
            "notes": self.notes or "",
            "lines": [
                self._k2k_prepare_order_line_payload(line, connection)
                for line in self.order_line
                if not line.display_type
            ],
        }

    def _k2k_send_message(self, connection, message_type, name, payload):
        """Send an order message through ``connection`` now; raise with the
        receiver's reason unless it was applied or, the partner being out of
        reach, left in the queue."""
        self.ensure_one()
        message = (
            self.env["k2k.message"]
            .sudo()
            .create(
                {
                    "name": name,
                    "connection_id": connection.id,
                    "message_type": message_type,
                    "document_uid": self._k2k_document_uid(),
                    "purchase_order_id": self.id,
                    "payload": payload,
                }
            )
        )
        outcome = connection._k2k_send_now(message)
        # "queued": the partner is out of reach, the queue delivers it later.
        if outcome["outcome"] not in ("applied", "queued"):
            raise UserError(outcome.get("detail") or outcome["outcome"])
        return outcome

    def _k2k_send_order(self, connection):
        self.k2k_connection_id = connection
        outcome = self._k2k_send_message(
            connection,
            "order",
            self.env._("Order %(order)s", order=self.name),
            self._k2k_prepare_order_payload(connection),
        )
        if outcome["outcome"] == "queued":
            self._message_log(
                body=self.env._(
                    "%(vendor)s cannot be reached now: the K2K order will be "
                    "sent as soon as it can (see the Synchronization Log).",
                    vendor=connection._get_vendor_display_name(),
                )
            )

    def _k2k_order_message_done(self, message, outcome):
        """An order message got its outcome, at once or later from the
        queue: link the vendor's order, or say why there is none."""
        self.ensure_one()
        if message.message_type != "order":
            return
        connection = message.connection_id
        if outcome["outcome"] == "applied":
            self.write(
                {
                    "k2k_sale_order_ref": outcome.get("sale_order_name"),
                    "k2k_sale_order_id": outcome.get("sale_order_id")
                    if connection.transport == "local"
                    else False,
                }
            )
            self._message_log(
                body=self.env._(
                    "K2K order %(order)s created at %(vendor)s.",
                    order=outcome.get("sale_order_name"),
                    vendor=connection._get_vendor_display_name(),
                )
            )
        elif outcome["outcome"] == "failed":
            self.message_post(
                body=self.env._(
                    "%(vendor)s did not take the K2K order: %(reason)s",
                    vendor=connection._get_vendor_display_name(),
                    reason=outcome.get("detail"),
                )
            )

    def _k2k_send_order_cancellation(self):
        self._k2k_send_message(
            self.k2k_connection_id,
            "order_cancel",
            self.env._("Cancellation of order %(order)s", order=self.name),
            {"purchase_order_name": self.name},
        )

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
