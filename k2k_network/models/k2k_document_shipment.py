# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup, escape

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, formatLang


class K2KDocumentShipment(models.AbstractModel):
    """The shipment notice, vendor -> buyer: validating the vendor's delivery
    of a K2K order tells the buyer what is on its way. Each line carries what
    was shipped of it so far (so that a notice repeated, or two crossing,
    says the same), with its lot or serial numbers. The buyer's open receipt
    gets the quantities still on their way, ready to be checked on arrival:
    never validated by itself; what was not shipped stays for a backorder."""

    _name = "k2k.document.shipment"
    _inherit = "k2k.document"
    _description = "K2K Shipment Notice Adapter"

    @api.model
    def _k2k_get_message_types(self):
        return {
            **super()._k2k_get_message_types(),
            "shipment": self.env._("Shipment Notice"),
        }

    # ======================================================================
    # Export (vendor side)
    # ======================================================================

    # One document per K2K order (not per delivery): its notices are its
    # revisions, so that an older one never undoes a newer one.

    @api.model
    def _k2k_get_message_name(self, message_type, record):
        return self.env._("Shipment of %(order)s", order=record.client_order_ref)

    @api.model
    def _k2k_export_payload(self, order):
        shipments = order.picking_ids.filtered(
            lambda p: p.state == "done" and p.picking_type_code == "outgoing"
        ).sorted(lambda p: (p.date_done, p.id))
        latest = shipments[-1:]
        return {
            "order_uid": order.k2k_document_uid,
            "shipment": latest.name or order.name,
            "tracking_ref": latest._k2k_get_tracking_ref() if latest else False,
            "lines": [
                self._k2k_export_shipped_line(line, latest)
                for line in order.order_line.filtered("k2k_purchase_line_ref")
            ],
        }

    @api.model
    def _k2k_export_shipped_line(self, line, latest):
        """What was shipped of ``line`` in all, with the lot or serial
        numbers of the latest delivery."""
        moves = latest.move_ids.filtered(
            lambda m: m.sale_line_id == line and m.state == "done"
        )
        lots = {}
        for move_line in moves.move_line_ids.filtered("lot_id"):
            name = move_line.lot_id.name
            # In the line's unit, as what was shipped.
            quantity = move_line.product_uom_id._compute_quantity(
                move_line.quantity, line.product_uom, round=False
            )
            lots[name] = lots.get(name, 0.0) + quantity
        return {
            "purchase_line_ref": line.k2k_purchase_line_ref,
            # What the buyer still has of it: what it says it sent back is
            # not on its way again.
            "shipped": line.qty_delivered - line._k2k_get_qty_returned_not_taken_back(),
            "lots": [{"name": name, "quantity": qty} for name, qty in lots.items()],
            "uom": self._k2k_export_uom(line.product_uom),
        }

    # ======================================================================
    # Apply (buyer side)
    # ======================================================================

    @api.model
    def _k2k_apply_document(self, connection, envelope):
        payload = envelope["payload"]
        order = self._k2k_find_purchase_order(connection, payload["order_uid"])
        if not order:
            raise UserError(self.env._("No purchase order was sent under this name."))
        if envelope["revision"] <= order.k2k_shipment_revision:
            return self._k2k_outcome(
                "superseded", self.env._("An older notice: ignored."), order, order.name
            )
        receipts = order.picking_ids.filtered(
            lambda p: p.picking_type_code == "incoming"
            and p.state not in ("done", "cancel")
        )
        by_ref = {line.k2k_line_uid: line for line in order.order_line}
        noted = []
        for told in payload["lines"]:
            line = by_ref.get(told["purchase_line_ref"])
            if line:
                noted += self._k2k_expect_line(line, receipts, told)
        receipts.filtered(lambda p: p.move_ids.filtered("quantity")).write(
            {
                "k2k_shipment_ref": payload["shipment"],
                "k2k_tracking_ref": payload.get("tracking_ref") or False,
            }
        )
        order.sudo().k2k_shipment_revision = envelope["revision"]
        self._k2k_note_shipment(order, receipts, connection, payload, noted)
        return self._k2k_outcome(
            "applied",
            self.env._("Receipt of %(order)s prepared.", order=order.name),
            order,
            order.name,
        )

    @api.model
    def _k2k_expect_line(self, line, receipts, told):
        """Put what is on its way for ``line`` on its open receipt move."""
        told_uom = self._k2k_get_uom(told.get("uom"), line.product_uom, line.product_id)
        shipped = told_uom._compute_quantity(
            told["shipped"], line.product_uom, round=False
        )
        on_the_way = shipped - line.qty_received
        move = receipts.move_ids.filtered(
            lambda m: m.purchase_line_id == line and m.state not in ("done", "cancel")
        )[:1]
        rounding = line.product_uom.rounding
        if not move or float_compare(on_the_way, 0, precision_rounding=rounding) <= 0:
            return []
        # The receipt's move counts in its own unit (the product's, usually).
        on_the_way = line.product_uom._compute_quantity(
            on_the_way, move.product_uom, rounding_method="HALF-UP"
        )
        rounding = move.product_uom.rounding
        if float_compare(on_the_way, move.quantity, precision_rounding=rounding) == 0:
            return []
        lots = [
            dict(
                lot,
                quantity=told_uom._compute_quantity(
                    lot["quantity"], move.product_uom, rounding_method="HALF-UP"
                ),
            )
            for lot in told.get("lots") or []
        ]
        lots_qty = sum(lot["quantity"] for lot in lots)
        if (
            line.product_id.tracking != "none"
            and lots
            and not float_compare(lots_qty, on_the_way, precision_rounding=rounding)
        ):
            self._k2k_set_lots(move, lots)
        else:
            move.quantity = on_the_way
        return [
            self.env._(
                "%(product)s: %(quantity)s %(unit)s",
                product=line.product_id.display_name,
                quantity=formatLang(self.env, on_the_way),
                unit=move.product_uom.name,
            )
        ]

    @api.model
    def _k2k_set_lots(self, move, lots):
        """The vendor's lot or serial numbers on the receipt, to be created
        with the goods when the receipt is validated."""
        move.move_line_ids.unlink()
        vals = move._prepare_move_line_vals()
        self.env["stock.move.line"].create(
            [dict(vals, lot_name=lot["name"], quantity=lot["quantity"]) for lot in lots]
        )

    @api.model
    def _k2k_note_shipment(self, order, receipts, connection, payload, noted):
        if not noted:
            return
        template = self.env._(
            "%(vendor)s shipped %(shipment)s (tracking: %(tracking)s). On its way:"
        )
        body = Markup("<p>%s</p><ul>%s</ul>") % (
            escape(template)
            % {
                "vendor": connection._get_vendor_display_name(),
                "shipment": payload["shipment"],
                "tracking": payload.get("tracking_ref") or "-",
            },
            Markup().join(Markup("<li>%s</li>") % item for item in noted),
        )
        order._message_log(body=body)
        for receipt in receipts:
            receipt._message_log(body=body)
