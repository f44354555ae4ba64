# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, float_is_zero


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # -- vendor side: goods the buyer returned (k2k.document.return) ---------
    k2k_returned_by_buyer = fields.Boolean(
        string="Returned by Buyer",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The buyer sent goods of this K2K order back: see each line's "
        "returned quantity and the chatter.",
    )
    k2k_return_revision = fields.Integer(readonly=True, copy=False)
    k2k_return_to_credit = fields.Boolean(
        string="Return Not Credited Yet",
        compute="_compute_k2k_return_to_credit",
        help="Goods the buyer returned are still invoiced: a credit note is "
        "due for them.",
    )

    @api.depends(
        "order_line.k2k_qty_returned",
        "order_line.invoice_lines.quantity",
        "order_line.invoice_lines.move_id.state",
    )
    def _compute_k2k_return_to_credit(self):
        for order in self:
            order.k2k_return_to_credit = any(
                line._k2k_get_qty_return_to_credit() for line in order.order_line
            )

    def _k2k_get_return_responsible(self):
        """Who at the vendor is asked to handle a return: the order's
        salesperson, else its team's leader, else the connection's
        responsible; never the K2K user nor a user of the buyer."""
        self.ensure_one()
        return self.k2k_connection_id._k2k_get_responsible(
            "vendor", self.user_id, self.team_id.user_id
        )

    def action_k2k_create_return_credit_note(self):
        """A draft credit note for what the buyer returned and is still
        invoiced, at the order's prices: made as Odoo makes the credit note
        of a sale order whose delivered quantity went down (its lines are
        the order's, so that what is invoiced comes down with it)."""
        user = self.env.user
        if not (
            user.has_group("sales_team.group_sale_salesman")
            or user.has_group("account.group_account_invoice")
        ):
            raise AccessError(
                self.env._("Only sales and billing users can credit a return.")
            )
        self.check_access("write")
        to_credit = {
            order: [
                (line, qty)
                for line in order.order_line
                if (qty := line._k2k_get_qty_return_to_credit())
            ]
            for order in self
        }
        nothing = [order.name for order, lines in to_credit.items() if not lines]
        if nothing:
            raise UserError(
                self.env._(
                    "Nothing the buyer returned is left to credit on %(orders)s.",
                    orders=", ".join(nothing),
                )
            )
        # As the superuser, as Odoo's own invoicing of a sale order: the
        # group and the order were checked above.
        refunds = (
            self.env["account.move"]
            .sudo()
            .with_context(default_move_type="out_refund")
            .create(
                [
                    order._k2k_prepare_return_credit_note(lines)
                    for order, lines in to_credit.items()
                ]
            )
        )
        for refund, order in zip(refunds, to_credit, strict=True):
            refund.message_post_with_source(
                "mail.message_origin_link",
                render_values={"self": refund, "origin": order},
                subtype_xmlid="mail.mt_note",
            )
        return refunds.sudo(False)._get_records_action(
            name=self.env._("Credit Note for the Return")
        )

    def _k2k_prepare_return_credit_note(self, lines):
        """The values of the draft credit note of ``lines`` (``[(sale line,
        quantity)]``) of this order."""
        self.ensure_one()
        vals = self.with_company(self.company_id)._prepare_invoice()
        invoiced = (
            self.env["sale.order.line"]
            .concat(*(line for line, _qty in lines))
            .invoice_lines.move_id.filtered(
                lambda m: m.move_type == "out_invoice" and m.state == "posted"
            )
        )
        vals.update(
            {
                "move_type": "out_refund",
                # The invoice it corrects (the latest one), so that the
                # buyer's credit note is matched to that bill.
                "reversed_entry_id": invoiced.sorted(lambda m: (m.date, m.id))[-1:].id,
                "invoice_line_ids": [
                    Command.create(line._prepare_invoice_line(quantity=qty))
                    for line, qty in lines
                ],
            }
        )
        return vals


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    k2k_qty_returned = fields.Float(
        string="Returned by the Buyer",
        digits="Product Unit of Measure",
        readonly=True,
        copy=False,
        help="What the buyer sent back of this line in all, as its return "
        "notices say.",
    )

    def _k2k_get_moved_quantities(self):
        """(shipped, returned into the vendor's stock) of this line, as Odoo
        counts its delivered quantity, in the line's unit."""
        self.ensure_one()
        outgoing, incoming = self._get_outgoing_incoming_moves()

        def total(moves):
            return sum(
                move.product_uom._compute_quantity(
                    move.quantity, self.product_uom, rounding_method="HALF-UP"
                )
                for move in moves.filtered(lambda m: m.state == "done")
            )

        return total(outgoing), total(incoming)

    def _k2k_get_qty_shipped(self):
        """What the vendor's own deliveries say the buyer got of this line:
        the most the buyer can return."""
        self.ensure_one()
        if self.qty_delivered_method != "stock_move":
            return self.qty_delivered
        shipped, taken_back = self._k2k_get_moved_quantities()
        return shipped - taken_back

    def _k2k_get_qty_returned_not_taken_back(self):
        """What the buyer says it sent back of this line and the vendor's
        own return receipts have not taken in yet: the buyer's word only,
        so it never changes what the vendor's books call delivered (Odoo's
        own return of the delivery does that)."""
        self.ensure_one()
        if not self.k2k_qty_returned or self.qty_delivered_method != "stock_move":
            return 0.0
        _shipped, taken_back = self._k2k_get_moved_quantities()
        return max(self.k2k_qty_returned - taken_back, 0.0)

    def _k2k_get_qty_return_to_credit(self):
        """What the buyer returned of this line and no credit note credits
        yet: at most what was invoiced of it (a credit note of this line,
        draft or posted, counts)."""
        self.ensure_one()
        rounding = self.product_uom.rounding
        if float_is_zero(self.k2k_qty_returned, precision_rounding=rounding):
            return 0.0
        invoiced = credited = 0.0
        for aml in self.invoice_lines.filtered(
            lambda inv_line: inv_line.move_id.state != "cancel"
        ):
            quantity = aml.product_uom_id._compute_quantity(
                aml.quantity, self.product_uom, round=False
            )
            if aml.move_id.move_type == "out_refund":
                credited += quantity
            else:
                invoiced += quantity
        to_credit = min(self.k2k_qty_returned, invoiced) - credited
        if float_compare(to_credit, 0, precision_rounding=rounding) <= 0:
            return 0.0
        return to_credit
