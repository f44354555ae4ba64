# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup, escape

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, formatLang, html2plaintext

from .. import wire


class K2KDocumentReturn(models.AbstractModel):
    """The return notice, buyer -> vendor: validating the buyer's return of
    goods of a K2K order (Odoo's return of a receipt) tells the vendor what
    came back. Each line carries what was returned of it so far (so that a
    notice repeated, or two crossing, says the same). The vendor's order
    shows the return for a person to turn into a credit note: nothing is
    credited by itself, and a return the vendor did not deliver is refused."""

    _name = "k2k.document.return"
    _inherit = "k2k.document"
    _description = "K2K Return Notice Adapter"

    @api.model
    def _k2k_get_message_types(self):
        return {
            **super()._k2k_get_message_types(),
            "return": self.env._("Return by the Buyer"),
        }

    # ======================================================================
    # Export (buyer side)
    # ======================================================================

    # One document per K2K purchase order (not per return): its notices are
    # its revisions, so that an older one never undoes a newer one.

    @api.model
    def _k2k_get_message_name(self, message_type, record):
        return self.env._("Return of %(order)s", order=record.name)

    @api.model
    def _k2k_describe_superseded(self):
        return self.env._("Superseded by a later return of the same order.")

    @api.model
    def _k2k_export_payload(self, order):
        returns = self._k2k_get_return_moves(order)
        latest = returns.picking_id.sorted(lambda p: (p.date_done, p.id))[-1:]
        connection = order.k2k_connection_id
        known = self.env["k2k.message"]._k2k_get_documents(connection, order, "order")
        return {
            "order_uid": known.get(order.id, (False,))[0],
            # Whatever a person typed in the return's note, made fit for
            # the wire (the partner refuses control characters).
            "return_ref": wire.clean_text(latest.name or order.name),
            "reason": wire.clean_text(html2plaintext(latest.note or "").strip())
            or False,
            "lines": [
                {
                    "purchase_line_ref": line.k2k_line_uid,
                    "returned": self._k2k_get_returned(line, returns),
                    "uom": self._k2k_export_uom(line.product_uom),
                }
                for line in order.order_line.filtered("k2k_line_uid")
            ],
        }

    @api.model
    def _k2k_get_return_moves(self, orders):
        """The done moves that sent goods of ``orders`` back to the vendor
        and lower what was received: Odoo's returns of their receipts."""
        return self._k2k_filter_return_moves(orders.order_line.move_ids)

    @api.model
    def _k2k_filter_return_moves(self, moves):
        return moves.filtered(
            lambda m: m.state == "done"
            and m.origin_returned_move_id
            and m.to_refund
            and m._is_purchase_return()
        )

    @api.model
    def _k2k_get_returned(self, line, returns):
        """What was returned of ``line`` in all, in its purchase unit."""
        return sum(
            move.product_uom._compute_quantity(
                move.quantity, line.product_uom, rounding_method="HALF-UP"
            )
            for move in returns.filtered(lambda m: m.purchase_line_id == line)
        )

    # ======================================================================
    # Apply (vendor side)
    # ======================================================================

    @api.model
    def _k2k_apply_document(self, connection, envelope):
        payload = envelope["payload"]
        order = self._k2k_find_received("sale.order", connection, payload["order_uid"])
        if not order:
            raise UserError(self.env._("No K2K order was received under this name."))
        if envelope["revision"] <= order.k2k_return_revision:
            return self._k2k_outcome(
                "superseded", self.env._("An older return: ignored."), order, order.name
            )
        changes = self._k2k_check_returned_lines(order, payload["lines"])
        for line, returned in changes:
            line.sudo().k2k_qty_returned = returned
        vals = {"k2k_return_revision": envelope["revision"]}
        if any(order.order_line.mapped("k2k_qty_returned")):
            vals["k2k_returned_by_buyer"] = True
        order.sudo().write(vals)
        if changes:
            self._k2k_note_return(order, connection, payload, changes)
        return self._k2k_outcome(
            "applied",
            self.env._("Return noted on %(order)s.", order=order.name),
            order,
            order.name,
        )

    @api.model
    def _k2k_check_returned_lines(self, order, told_lines):
        """The K2K lines of ``order`` whose returned total changes, with the
        new total; raise with every reason when a returned product is not of
        this order or more came back than was delivered: a return is never
        taken blindly."""
        by_ref = {
            line.k2k_purchase_line_ref: line
            for line in order.order_line.filtered("k2k_purchase_line_ref")
        }
        changes, problems = [], []
        for told in told_lines:
            line = by_ref.get(told["purchase_line_ref"])
            returned = told["returned"]
            if not line:
                if returned:
                    problems.append(
                        self.env._(
                            "a returned product is not on K2K order %(order)s",
                            order=order.name,
                        )
                    )
                continue
            # In the partner's unit as it travels; this order's line counts
            # in its own.
            returned = self._k2k_get_uom(
                told.get("uom"), line.product_uom, line.product_id
            )._compute_quantity(returned, line.product_uom, round=False)
            rounding = line.product_uom.rounding
            delivered = line._k2k_get_qty_shipped()
            if float_compare(returned, delivered, precision_rounding=rounding) > 0:
                problems.append(
                    self.env._(
                        "%(product)s: %(returned)s returned, but %(delivered)s "
                        "delivered",
                        product=line.product_id.display_name,
                        returned=formatLang(self.env, returned),
                        delivered=formatLang(self.env, delivered),
                    )
                )
            elif float_compare(
                returned, line.k2k_qty_returned, precision_rounding=rounding
            ):
                changes.append((line, returned))
        if problems:
            raise UserError(
                self.env._(
                    "Return refused: %(problems)s.", problems="; ".join(problems)
                )
            )
        return changes

    @api.model
    def _k2k_note_return(self, order, connection, payload, changes):
        template = self.env._(
            "%(buyer)s returned goods of this order (%(return)s). Returned in all:"
        )
        body = Markup("<p>%s</p><ul>%s</ul>") % (
            escape(template)
            % {
                "buyer": connection._get_buyer_display_name(),
                "return": payload["return_ref"],
            },
            Markup().join(
                Markup("<li>%s</li>")
                % self.env._(
                    "%(product)s: %(quantity)s",
                    product=line.product_id.display_name,
                    quantity=formatLang(self.env, returned),
                )
                for line, returned in changes
            ),
        )
        if payload.get("reason"):
            body += Markup("<p>%s</p>") % self.env._(
                "Reason: %(reason)s", reason=payload["reason"]
            )
        self._k2k_note_for_responsible(
            order,
            body,
            self.env._("Goods returned by the buyer"),
            order._k2k_get_return_responsible(),
        )
