# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from .. import wire
from ..wire_values import TAX_AMOUNT_TYPES

# Vendor document type -> the buyer's counterpart.
K2K_BUYER_MOVE_TYPES = {"out_invoice": "in_invoice", "out_refund": "in_refund"}


class K2KDocumentInvoice(models.AbstractModel):
    """Invoices and credit notes, vendor -> buyer: the vendor's posted
    invoice becomes the buyer's vendor bill; its cancellation cancels or
    flags that bill."""

    _name = "k2k.document.invoice"
    _inherit = "k2k.document"
    _description = "K2K Invoice Adapter"

    # ======================================================================
    # Export (vendor side)
    # ======================================================================

    @api.model
    def _k2k_prepare_messages(self, messages):
        """Render the PDFs of the invoices to send in batches and build
        their payloads; a message whose invoice changed since it was queued
        is superseded (the newer message is on its way)."""
        to_build = messages.browse()
        invoices = messages.filtered(lambda m: m.message_type == "invoice")
        # Iterated from one recordset: the invoices are read together.
        moves = {
            move.id: move
            for move in self.env["account.move"].browse(invoices.mapped("res_id"))
        }
        for message in invoices:
            if message.payload:
                continue  # built on an earlier attempt: a retry resends it as it was
            move = moves[message.res_id]
            if move.state != "posted" or move.k2k_revision != message.revision:
                message._k2k_mark_superseded(self._k2k_describe_superseded())
                continue
            to_build |= message
        if not to_build:
            return
        pdfs = self.env["ir.actions.report"]._k2k_get_invoice_pdfs(
            self.env["account.move"].browse(to_build.mapped("res_id"))
        )
        for message in to_build:
            move = moves[message.res_id]
            pdf = pdfs.get(move.id, self.env["ir.attachment"])
            message.write(
                {
                    "payload": self._k2k_export_invoice(move, message.connection_id),
                    # Only a PDF travels (Odoo's test mode renders HTML).
                    "attachment_id": pdf.id
                    if pdf.mimetype == "application/pdf"
                    else False,
                }
            )

    @api.model
    def _k2k_get_message_name(self, message_type, record):
        return record.name

    @api.model
    def _k2k_describe_superseded(self):
        return self.env._("Superseded by a later change of the invoice.")

    @api.model
    def _k2k_describe_prepare_error(self, error):
        return self.env._("Could not prepare the invoice: %(error)s", error=error)

    @api.model
    def _k2k_on_outcome(self, message, outcome):
        result = super()._k2k_on_outcome(message, outcome)
        if message.message_type == "invoice" and outcome["outcome"] == "applied":
            self.env["account.move"].browse(message.res_id)._k2k_note_bill_made()
        return result

    @api.model
    def _k2k_export_invoice(self, move, connection):
        lines = move.invoice_line_ids.filtered(
            lambda aml: aml.display_type == "product"
        )
        reversed_uid = False
        if move.reversed_entry_id:
            known = self.env["k2k.message"]._k2k_get_documents(
                connection, move.reversed_entry_id, "invoice"
            )
            reversed_uid = known.get(move.reversed_entry_id.id, (False,))[0]
        return {
            "move_type": move.move_type,
            "invoice_number": move.name,
            "invoice_date": fields.Date.to_string(move.invoice_date),
            "invoice_date_due": fields.Date.to_string(move.invoice_date_due),
            "payment_reference": move.payment_reference or False,
            "currency": move.currency_id.name,
            "amount_untaxed": move.amount_untaxed,
            "amount_tax": move.amount_tax,
            "amount_total": move.amount_total,
            "reversed_document_uid": reversed_uid,
            "lines": [self._k2k_export_invoice_line(move, line) for line in lines],
        }

    @api.model
    def _k2k_export_invoice_line(self, move, line):
        sale_lines = line.sale_line_ids
        if not sale_lines and move.reversed_entry_id:
            # A credit note made by hand: take the line of the reversed
            # invoice that sold the same product.
            sale_lines = move.reversed_entry_id.invoice_line_ids.filtered(
                lambda orig: orig.product_id == line.product_id
            )[:1].sale_line_ids
        vals = {
            "purchase_line_ref": sale_lines[:1].k2k_purchase_line_ref or False,
            "name": line.name,
            "quantity": line.quantity,
            "price_unit": line.price_unit,
            "discount": line.discount,
            "uom": self._k2k_export_uom(line.product_uom_id),
            # The buyer's own product for a line it never ordered (freight).
            "vendor_code": line.product_id.default_code or False,
            "price_total": line.price_total,
            "taxes": self._k2k_export_line_taxes(line),
        }
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

    @api.model
    def _k2k_export_line_taxes(self, line):
        """A line's taxes as the buyer can find its own of the same kind and
        rate: a group as its taxes. A kind the protocol has no word for is
        left out; the totals tell the buyer it differs."""
        return [
            {
                "amount_type": tax.amount_type,
                "amount": tax.amount,
                "price_include": tax.price_include,
            }
            for tax in line.tax_ids.flatten_taxes_hierarchy()
            if tax.amount_type in TAX_AMOUNT_TYPES
        ]
