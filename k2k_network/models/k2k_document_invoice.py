# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, fields, models

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
        return {
            "purchase_line_ref": sale_lines[:1].k2k_purchase_line_ref or False,
            "name": line.name,
            "quantity": line.quantity,
            "price_unit": line.price_unit,
            "discount": line.discount,
        }

    # ======================================================================
    # Apply (buyer side)
    # ======================================================================

    @api.model
    def _k2k_find_bill(self, connection, document_uid):
        return self._k2k_find_received("account.move", connection, document_uid)

    @api.model
    def _k2k_apply_document(self, connection, envelope):
        if not connection.buyer_company_id.k2k_invoice_upload_enabled:
            return self._k2k_outcome(
                "waiting",
                self.env._(
                    "Waiting for %(buyer)s to allow automatic upload.",
                    buyer=connection._get_buyer_display_name(),
                ),
            )
        bill = self._k2k_find_bill(connection, envelope["document_uid"])
        revision = envelope["revision"]
        known = bill and self._k2k_check_known_revision(bill, revision)
        if known:
            return known
        if not bill:
            bill = self._k2k_create_bill(connection, envelope)
            detail = self.env._("Vendor bill created, pending approval by procurement.")
        elif bill.state == "draft":
            self._k2k_update_bill(bill, connection, envelope)
            bill._k2k_after_vendor_change()
            detail = self.env._(
                "Draft vendor bill updated to revision %(revision)s, back to "
                "procurement for approval.",
                revision=revision,
            )
        else:
            self._k2k_hold_revision(bill, envelope)
            return self._k2k_outcome(
                "delivered",
                self.env._(
                    "The bill is already booked: revision %(revision)s waits for "
                    "accounting to apply it.",
                    revision=revision,
                ),
                bill,
            )
        return self._k2k_outcome("applied", detail, bill)

    @api.model
    def _k2k_check_known_revision(self, bill, revision):
        """The outcome for a revision the bill already has or has passed,
        else ``None``."""
        if revision in (bill.k2k_revision, bill.k2k_pending_revision):
            # The same revision again (its answer was lost on the way, or a
            # retry): it is there already, say so without touching anything.
            return self._k2k_outcome(
                "applied" if bill.k2k_revision == revision else "delivered",
                self.env._(
                    "Revision %(revision)s is already on bill %(bill)s.",
                    revision=revision,
                    bill=bill.display_name,
                ),
                bill,
            )
        if max(bill.k2k_revision, bill.k2k_pending_revision) > revision:
            return self._k2k_outcome(
                "superseded",
                self.env._(
                    "Revision %(revision)s is older than the bill's: ignored.",
                    revision=revision,
                ),
                bill,
            )
        return None

    @api.model
    def _k2k_apply_cancel(self, connection, envelope):
        bill = self._k2k_find_bill(connection, envelope["document_uid"])
        if not bill:
            return self._k2k_outcome("applied", self.env._("No bill to cancel."))
        number = envelope["payload"].get("invoice_number") or bill.ref
        if bill.state == "draft":
            bill.k2k_approval_state = False
            bill.button_cancel()
            bill._message_log(
                body=self.env._(
                    "Cancelled: the vendor cancelled invoice %(number)s.", number=number
                )
            )
            detail = self.env._("Draft bill cancelled.")
        else:
            bill.k2k_cancelled_by_vendor = True
            bill.message_post(
                body=self.env._(
                    "Warning: the vendor cancelled invoice %(number)s after this "
                    "bill was booked. Reverse it or ask the vendor.",
                    number=number,
                ),
                subtype_xmlid="mail.mt_note",
            )
            detail = self.env._(
                "The bill is booked: flagged as cancelled by the vendor."
            )
        return self._k2k_outcome("applied", detail, bill)

    # -- building the bill -------------------------------------------------

    @api.model
    def _k2k_prepare_bill_line_vals(self, line, po_line):
        if po_line:
            vals = po_line._prepare_account_move_line()
            # The amounts are the vendor's, not the order's: let the bill
            # compute its balance from them.
            vals.pop("balance", None)
        else:
            vals = {"display_type": "product"}
        vals.update(
            {
                "name": line["name"],
                "quantity": line["quantity"],
                "price_unit": line["price_unit"],
                "discount": line["discount"],
            }
        )
        return vals

    @api.model
    def _k2k_prepare_bill_vals(self, connection, envelope):
        payload = envelope["payload"]
        buyer = connection.buyer_company_id
        move_type = K2K_BUYER_MOVE_TYPES[payload["move_type"]]
        po_lines = self.env["purchase.order.line"]._k2k_find_sent_lines(
            connection, [line["purchase_line_ref"] for line in payload["lines"]]
        )
        orders = po_lines.order_id
        if orders:
            vals = (
                orders[0].with_context(default_move_type=move_type)._prepare_invoice()
            )
            vals["invoice_origin"] = ", ".join(orders.mapped("name"))
        else:
            vals = {}
        currency = self._k2k_get_currency(payload["currency"])
        vals.update(
            {
                "move_type": move_type,
                "company_id": buyer.id,
                "partner_id": connection.vendor_partner_id.id,
                "currency_id": currency.id,
                "ref": payload["invoice_number"],
                "payment_reference": payload.get("payment_reference")
                or payload["invoice_number"],
                "invoice_date": payload["invoice_date"],
                # The vendor's due date rules, not the buyer's payment term.
                "invoice_payment_term_id": False,
                "invoice_date_due": payload["invoice_date_due"],
                "k2k_connection_id": connection.id,
                "k2k_document_uid": envelope["document_uid"],
                "k2k_revision": envelope["revision"],
                "k2k_vendor_invoice_number": payload["invoice_number"],
                "k2k_approval_state": "pending",
            }
        )
        if payload.get("reversed_document_uid"):
            original = self._k2k_find_bill(connection, payload["reversed_document_uid"])
            vals["reversed_entry_id"] = original.id or False
        return vals, po_lines

    @api.model
    def _k2k_bill_line_commands(self, payload, po_lines):
        po_line_by_ref = {pol.k2k_line_uid: pol for pol in po_lines}
        return [
            Command.create(
                self._k2k_prepare_bill_line_vals(
                    line, po_line_by_ref.get(line["purchase_line_ref"])
                )
            )
            for line in payload["lines"]
        ]

    @api.model
    def _k2k_create_bill(self, connection, envelope):
        vals, po_lines = self._k2k_prepare_bill_vals(connection, envelope)
        payload = envelope["payload"]
        # One create with its lines and its PDF: an account.move write is
        # heavy, and each would recompute the bill's totals again.
        vals["invoice_line_ids"] = self._k2k_bill_line_commands(payload, po_lines)
        attachment = self._k2k_create_attachments(envelope)
        vals["message_main_attachment_id"] = attachment[:1].id
        bill = self.env["account.move"].with_company(connection.buyer_company_id)
        bill = bill.create(vals)
        attachment.write({"res_id": bill.id})
        # A logged note (no notification to compute): the bill's own trace.
        bill._message_log(
            body=self.env._(
                "Vendor bill received from %(vendor)s through K2K: invoice "
                "%(number)s. Pending approval by procurement.",
                vendor=connection._get_vendor_display_name(),
                number=payload["invoice_number"],
            ),
            attachment_ids=attachment.ids,
        )
        bill._k2k_flag_vendor_total(payload.get("amount_untaxed"))
        bill._k2k_after_vendor_change()
        bill.invoice_line_ids.purchase_line_id.order_id._k2k_note_bill_received(
            bill, payload["invoice_number"]
        )
        return bill

    @api.model
    def _k2k_update_bill(self, bill, connection, envelope):
        """Replace a draft bill's content by a newer revision."""
        previous_pdf = bill.message_main_attachment_id
        vals, po_lines = self._k2k_prepare_bill_vals(connection, envelope)
        for key in ("move_type", "company_id", "k2k_document_uid", "invoice_line_ids"):
            vals.pop(key, None)
        attachment = self._k2k_create_attachments(envelope, bill.id)
        vals.update(
            {
                "invoice_line_ids": [Command.clear()]
                + self._k2k_bill_line_commands(envelope["payload"], po_lines),
                "message_main_attachment_id": attachment[:1].id
                or bill.message_main_attachment_id.id,
                "k2k_updated_by_vendor": True,
                "k2k_changed_after_booking": False,
                "k2k_pending_revision": 0,
                "k2k_pending_envelope": False,
            }
        )
        bill.write(vals)
        bill._message_log(
            body=self.env._(
                "Warning: updated by the vendor (revision %(revision)s of invoice "
                "%(number)s). Back to procurement for approval. The previous PDF "
                "is attached here.",
                revision=envelope["revision"],
                number=envelope["payload"]["invoice_number"],
            ),
            attachment_ids=(previous_pdf - attachment).ids,
        )
        bill._k2k_flag_vendor_total(envelope["payload"].get("amount_untaxed"))

    @api.model
    def _k2k_hold_revision(self, bill, envelope):
        """A booked bill is never changed by the vendor: keep the revision
        for accounting to apply, and say so."""
        bill.write(
            {
                "k2k_changed_after_booking": True,
                "k2k_pending_revision": envelope["revision"],
                "k2k_pending_envelope": envelope,
            }
        )
        bill.message_post(
            body=self.env._(
                "Warning: the vendor changed invoice %(number)s after this bill was "
                "booked (revision %(revision)s). Accounting can apply the change "
                "with “Apply Vendor Changes”.",
                number=envelope["payload"]["invoice_number"],
                revision=envelope["revision"],
            ),
            subtype_xmlid="mail.mt_note",
        )

    @api.model
    def _k2k_create_attachments(self, envelope, res_id=False):
        return self.env["ir.attachment"].create(
            [
                {
                    "name": doc["name"],
                    "mimetype": doc.get("mimetype") or "application/pdf",
                    "datas": doc["datas"],
                    "res_model": "account.move",
                    "res_id": res_id,
                }
                for doc in envelope.get("attachments") or []
            ]
        )
