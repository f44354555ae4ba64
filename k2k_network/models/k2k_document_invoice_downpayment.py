# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, fields, models

from .. import wire


class K2KDocumentInvoice(models.AbstractModel):
    """Down payments, both sides: the vendor's down-payment line (Odoo's
    sale "Down payment", then its deduction on the final invoice, quantity
    -1) travels named by a reference of its own and of its K2K order; the
    buyer makes of it a purchase order down-payment line as Odoo's
    ``_create_downpayments`` does, which both bills are linked to."""

    _inherit = "k2k.document.invoice"  # pylint: disable=consider-merging-classes-inherited

    # -- vendor side -------------------------------------------------------

    @api.model
    def _k2k_export_invoice_line(self, move, line):
        vals = super()._k2k_export_invoice_line(move, line)
        vals.update(self._k2k_export_invoice_line_order(line))
        return vals

    @api.model
    def _k2k_export_invoice_line_order(self, line):
        """Which K2K order ``line`` bills (its document identifier, never a
        record id), and whether it is a down payment or its deduction."""
        sale_line = line.sale_line_ids.filtered("order_id.k2k_document_uid")[:1]
        if not sale_line:
            return {}
        vals = {"order_uid": sale_line.order_id.k2k_document_uid}
        if sale_line.is_downpayment:
            # The buyer's down-payment line will bear this reference: the
            # down-payment invoice makes it, the final invoice deducts it.
            if not sale_line.k2k_downpayment_ref:
                sale_line.k2k_downpayment_ref = wire.new_uid()
            vals.update(
                {
                    "is_downpayment": True,
                    "purchase_line_ref": sale_line.k2k_downpayment_ref,
                }
            )
        return vals

    # -- buyer side --------------------------------------------------------

    @api.model
    def _k2k_prepare_bill_vals(self, connection, envelope):
        # The purchase order's down-payment lines first: the bill's lines
        # are then linked to them as to any other purchase line.
        self._k2k_make_downpayment_lines(connection, envelope["payload"])
        return super()._k2k_prepare_bill_vals(connection, envelope)

    @api.model
    def _k2k_make_downpayment_lines(self, connection, payload):
        """The purchase order down-payment lines the vendor's down payments
        name and this side has not made yet."""
        dp_lines = [line for line in payload["lines"] if line.get("is_downpayment")]
        if not dp_lines:
            return self.env["purchase.order.line"]
        known = set(
            self.env["purchase.order.line"]
            ._k2k_find_sent_lines(
                connection, [line["purchase_line_ref"] for line in dp_lines]
            )
            .mapped("k2k_line_uid")
        )
        currency = self._k2k_get_currency(payload["currency"])
        made = self.env["purchase.order.line"]
        for line in dp_lines:
            if line["purchase_line_ref"] in known:
                continue
            order = self._k2k_find_purchase_order(connection, line["order_uid"])
            if not order:
                continue  # billed as a line of no purchase order
            made |= order._create_downpayments(
                [self._k2k_prepare_downpayment_line_vals(order, line, currency)]
            )
            known.add(line["purchase_line_ref"])
        return made

    @api.model
    def _k2k_prepare_downpayment_line_vals(self, order, line, currency):
        """A down-payment line of ``order`` as Odoo's own (``bill.to.po.wizard``)
        makes it: no quantity ordered, the down payment's untaxed amount as
        price, in the order's currency, with the buyer's purchase taxes."""
        price = line["price_unit"] * (1 - line["discount"] / 100.0)
        if currency != order.currency_id:
            price = currency._convert(
                price,
                order.currency_id,
                order.company_id,
                order.date_order or fields.Date.today(),
            )
        return {
            "name": line["name"],
            "product_qty": 0.0,
            "is_downpayment": True,
            "price_unit": price,
            "taxes_id": [Command.set(self._k2k_get_downpayment_taxes(order).ids)],
            "order_id": order.id,
            "k2k_line_uid": line["purchase_line_ref"],
        }

    @api.model
    def _k2k_get_downpayment_taxes(self, order):
        """The buyer's purchase taxes of a down payment on ``order``: those
        of the order's goods (the taxes of most of its untaxed amount, when
        its lines have several)."""
        amounts = {}
        for po_line in order.order_line.filtered(
            lambda pol: not pol.display_type and not pol.is_downpayment
        ):
            amounts.setdefault(po_line.taxes_id, 0.0)
            amounts[po_line.taxes_id] += po_line.price_subtotal
        if not amounts:
            return self.env["account.tax"]
        return max(amounts, key=lambda taxes: amounts[taxes])
