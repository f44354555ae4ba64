# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup, escape

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, format_amount, formatLang


class K2KDocumentOrderAnswer(models.AbstractModel):
    """The vendor's answer to a K2K order, vendor -> buyer: confirmed, each
    line's quantity and price as the vendor will deliver them, or cancelled.
    The buyer's purchase order follows where nothing was received yet; what
    was received is never changed, and is flagged for a person instead."""

    _name = "k2k.document.order.answer"
    _inherit = "k2k.document"
    _description = "K2K Order Answer Adapter"

    @api.model
    def _k2k_get_message_types(self):
        return {
            **super()._k2k_get_message_types(),
            "order_answer": self.env._("Vendor's Answer to a K2K Order"),
        }

    # ======================================================================
    # Export (vendor side)
    # ======================================================================

    @api.model
    def _k2k_get_message_name(self, message_type, record):
        return self.env._("Answer to %(order)s", order=record.client_order_ref)

    @api.model
    def _k2k_describe_superseded(self):
        return self.env._("Superseded by a later answer to the same order.")

    @api.model
    def _k2k_export_payload(self, order):
        lines = order.order_line.filtered("k2k_purchase_line_ref")
        return {
            "order_uid": order.k2k_document_uid,
            "vendor_order": order.name,
            "state": "cancelled" if order.state == "cancel" else "confirmed",
            "lines": [
                {
                    "purchase_line_ref": line.k2k_purchase_line_ref,
                    "quantity": line.product_uom_qty,
                    "price_unit": line.price_unit,
                    "discount": line.discount,
                    "uom": self._k2k_export_uom(line.product_uom),
                }
                for line in lines
            ],
        }

    # ======================================================================
    # Apply (buyer side)
    # ======================================================================

    @api.model
    def _k2k_apply_document(self, connection, envelope):
        payload = envelope["payload"]
        order = self._k2k_find_purchase_order(connection, payload["order_uid"])
        if not order:
            raise UserError(
                self.env._(
                    "No purchase order was sent as %(order)s.",
                    order=payload["vendor_order"],
                )
            )
        if envelope["revision"] <= order.k2k_vendor_revision:
            return self._k2k_outcome(
                "superseded", self.env._("An older answer: ignored."), order, order.name
            )
        vals = {
            "k2k_vendor_revision": envelope["revision"],
            "k2k_sale_order_ref": payload["vendor_order"],
        }
        if payload["state"] == "cancelled":
            applied, held = self._k2k_follow_cancellation(order)
        else:
            applied, held = self._k2k_follow_lines(order, payload["lines"])
        vals["k2k_vendor_state"] = self._k2k_get_vendor_state(order, payload, applied)
        if held:
            vals["k2k_vendor_attention"] = True
        order.write(vals)
        self._k2k_note_answer(order, connection, payload, applied, held)
        return self._k2k_outcome(
            "applied",
            self.env._("Purchase order %(order)s follows.", order=order.name),
            order,
            order.name,
        )

    @api.model
    def _k2k_get_vendor_state(self, order, payload, applied):
        if payload["state"] == "cancelled":
            return "cancelled"
        if applied or order.k2k_vendor_state == "changed":
            return "changed"
        return "confirmed"

    @api.model
    def _k2k_follow_cancellation(self, order):
        """Cancel the purchase order unless something was received or billed:
        then it is a person's call. Return (changes applied, changes held)."""
        lines = order.order_line.filtered(lambda line: not line.display_type)
        if order.state == "cancel":
            return [], []
        if any(lines.mapped("qty_received")) or order.invoice_ids:
            return [], [self.env._("The vendor cancelled the order.")]
        # Marked first: the cancellation comes from the vendor, and is not
        # sent back to it.
        order.k2k_vendor_state = "cancelled"
        order.button_cancel()
        return [self.env._("The vendor cancelled the order.")], []

    @api.model
    def _k2k_follow_lines(self, order, told_lines):
        """Each K2K line as the vendor will deliver it (a line the vendor no
        longer names is voided). Return (changes applied, changes held)."""
        told = {line["purchase_line_ref"]: line for line in told_lines}
        applied, held = [], []
        # A down-payment line is the vendor's invoice's, never a line of the
        # vendor's answer: an answer that does not name it leaves it be.
        for line in order.order_line.filtered(
            lambda pol: pol.k2k_line_uid and not pol.is_downpayment
        ):
            new = told.get(line.k2k_line_uid, {"quantity": 0.0})
            price_step = self._k2k_get_price_step(new, line)
            # Read in the buyer's unit of the line, whatever the vendor
            # sells in.
            new = self._k2k_convert_to_uom(new, line.product_uom, line.product_id)
            vals = self._k2k_prepare_line_changes(line, new, price_step)
            if not vals:
                continue
            text = self._k2k_describe_line_changes(line, vals)
            if line.qty_received or line.qty_invoiced or self._k2k_raises(line, vals):
                held.append(text)
            else:
                line.write(vals)
                applied.append(text)
        return applied, held

    @api.model
    def _k2k_raises(self, line, vals):
        """Whether the vendor asks for more than the buyer ordered: more
        goods, a higher price, a smaller discount. The buyer's order only
        follows a vendor that delivers less or charges less; anything else
        is a person's call."""
        rounding = line.product_uom.rounding
        return (
            float_compare(
                vals.get("product_qty", line.product_qty),
                line.product_qty,
                precision_rounding=rounding,
            )
            > 0
            or float_compare(
                vals.get("price_unit", line.price_unit),
                line.price_unit,
                precision_digits=6,
            )
            > 0
            or float_compare(
                vals.get("discount", line.discount), line.discount, precision_digits=6
            )
            < 0
        )

    @api.model
    def _k2k_get_price_step(self, told, line):
        """The smallest change of price the vendor can tell for ``line``, in
        the line's unit: a cent of its own unit's price, times as many of
        that unit as the line's holds. 10.00 a dozen is priced 0.83 a unit
        by the vendor, which is 9.96 a dozen: no change of price."""
        digits = self.env["decimal.precision"].precision_get("Product Price")
        told_uom = self._k2k_get_uom(told.get("uom"), line.product_uom, line.product_id)
        return told_uom._compute_price(10**-digits, line.product_uom)

    @api.model
    def _k2k_prepare_line_changes(self, line, new, price_step=0.0):
        vals = {}
        if float_compare(
            new["quantity"],
            line.product_qty,
            precision_rounding=line.product_uom.rounding,
        ):
            vals["product_qty"] = new["quantity"]
        if "price_unit" in new and (
            abs(new["price_unit"] - line.price_unit) >= price_step
            and float_compare(new["price_unit"], line.price_unit, precision_digits=6)
        ):
            vals["price_unit"] = new["price_unit"]
        if "discount" in new and float_compare(
            new["discount"], line.discount, precision_digits=6
        ):
            vals["discount"] = new["discount"]
        return vals

    @api.model
    def _k2k_describe_line_changes(self, line, vals):
        parts = []
        if "product_qty" in vals:
            parts.append(
                self.env._(
                    "quantity %(old)s -> %(new)s",
                    old=formatLang(self.env, line.product_qty),
                    new=formatLang(self.env, vals["product_qty"]),
                )
            )
        if "price_unit" in vals:
            parts.append(
                self.env._(
                    "price %(old)s -> %(new)s",
                    old=format_amount(self.env, line.price_unit, line.currency_id),
                    new=format_amount(self.env, vals["price_unit"], line.currency_id),
                )
            )
        if "discount" in vals:
            parts.append(
                self.env._(
                    "discount %(old)s%% -> %(new)s%%",
                    old=line.discount,
                    new=vals["discount"],
                )
            )
        return "{}: {}".format(line.product_id.display_name, ", ".join(parts))

    @api.model
    def _k2k_note_answer(self, order, connection, payload, applied, held):
        vendor = connection._get_vendor_display_name()
        if not applied and not held:
            order._message_log(
                body=self.env._(
                    "Confirmed by %(vendor)s as %(order)s.",
                    vendor=vendor,
                    order=payload["vendor_order"],
                )
            )
            return
        body = Markup("<p>%s</p>") % self.env._(
            "%(vendor)s changed K2K order %(order)s:",
            vendor=vendor,
            order=payload["vendor_order"],
        )
        body += self._k2k_html_list(applied)
        if held:
            body += Markup("<p>%s</p>") % self.env._(
                "Not applied, as goods were already received or billed, or the "
                "vendor asks for more than was ordered:"
            )
            body += self._k2k_html_list(held)
        # The buyer's purchase representative, else the buyer's responsible:
        # never the K2K user who applies the change.
        self._k2k_note_for_responsible(
            order,
            body,
            self.env._("Vendor changed the K2K order"),
            connection._k2k_get_responsible("buyer", order.user_id),
        )

    @api.model
    def _k2k_html_list(self, items):
        if not items:
            return Markup()
        return Markup("<ul>%s</ul>") % Markup().join(
            Markup("<li>%s</li>") % escape(item) for item in items
        )
