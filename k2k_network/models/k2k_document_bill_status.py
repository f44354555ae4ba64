# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError


class K2KDocumentBillStatus(models.AbstractModel):
    """What became of an invoice at the buyer, buyer -> vendor: pending or
    approved by procurement, sent back, disputed (with its reason), booked,
    partly or wholly paid (with the amount paid, so that the vendor sees a
    short payment), cancelled. Only the status and amounts travel: none of
    the buyer's accounts, journals or payments."""

    _name = "k2k.document.bill.status"
    _inherit = "k2k.document"
    _description = "K2K Bill Status Adapter"

    @api.model
    def _k2k_get_message_types(self):
        return {
            **super()._k2k_get_message_types(),
            "bill_status": self.env._("Bill Status at the Buyer"),
        }

    # ======================================================================
    # Export (buyer side)
    # ======================================================================

    @api.model
    def _k2k_get_message_name(self, message_type, record):
        return self.env._(
            "Status of bill for %(invoice)s", invoice=record.k2k_vendor_invoice_number
        )

    @api.model
    def _k2k_describe_superseded(self):
        return self.env._("Superseded by a later status of the same bill.")

    @api.model
    def _k2k_get_sender(self, message_type, record):
        if not record.exists():
            # The last status of a deleted bill: the buyer that deleted it
            # (as remembered) sends it.
            received = (
                self.env["k2k.received"]
                .sudo()
                .search([("deleted_res_id", "=", record.id)], limit=1)
            )
            return received.connection_id.buyer_company_id
        return super()._k2k_get_sender(message_type, record)

    @api.model
    def _k2k_export_deleted_payload(self, bill):
        """The payload saying that ``bill`` is deleted, built before it is."""
        return dict(
            self._k2k_export_payload(bill), status="deleted", reason=False, note=False
        )

    @api.model
    def _k2k_export_payload(self, bill):
        status = bill._k2k_get_status_for_vendor()
        disputed = status == "disputed"
        return {
            "invoice_uid": bill.k2k_document_uid,
            "status": status,
            "reason": bill.k2k_dispute_reason if disputed else False,
            "note": bill.k2k_dispute_note if disputed else False,
            **bill._k2k_get_amounts_for_vendor(),
        }

    # ======================================================================
    # Apply (vendor side)
    # ======================================================================

    @api.model
    def _k2k_apply_document(self, connection, envelope):
        payload = envelope["payload"]
        invoice = self._k2k_find_sent(connection, "invoice", payload["invoice_uid"])
        if not invoice:
            raise UserError(self.env._("No invoice was sent under this reference."))
        if envelope["revision"] <= invoice.k2k_buyer_status_revision:
            return self._k2k_outcome(
                "superseded",
                self.env._("An older status: ignored."),
                invoice,
                invoice.name,
            )
        disputed = payload["status"] == "disputed"
        amount_paid = payload.get("amount_paid")
        invoice.write(
            {
                "k2k_buyer_status": invoice._k2k_read_buyer_status(
                    payload["status"], amount_paid
                ),
                "k2k_buyer_amount_paid": amount_paid or 0.0,
                "k2k_buyer_status_date": fields.Datetime.now(),
                "k2k_buyer_status_revision": envelope["revision"],
                "k2k_buyer_dispute": (
                    invoice._k2k_describe_dispute(payload["reason"], payload["note"])
                    if disputed
                    else False
                ),
            }
        )
        invoice._k2k_note_buyer_status(connection)
        return self._k2k_outcome(
            "applied",
            self.env._("Invoice %(invoice)s updated.", invoice=invoice.name),
            invoice,
            invoice.name,
        )

    @api.model
    def _k2k_on_partner_restarted(self, connection, received):
        """The buyer restored its database from a backup made before it
        told these statuses: its bill may be at an earlier stage there. The
        invoices are flagged for a person; the buyer's next status of each
        replaces the one shown."""
        result = super()._k2k_on_partner_restarted(connection, received)
        buyer = connection._get_buyer_display_name()
        invoices = (
            self.env["account.move"]
            .browse(
                received.filtered(lambda r: r.res_model == "account.move").mapped(
                    "res_id"
                )
            )
            .exists()
        )
        # The buyer's bill tells its status anew, maybe under another
        # document: its next status is taken, whatever its revision.
        invoices.write({"k2k_buyer_status_revision": 0})
        invoices._k2k_flag_partner_restore(
            self.env._(
                "%(buyer)s restored its database from a backup made before it told "
                "the status shown here: its bill of this invoice may be at an "
                "earlier stage there. Check with %(buyer)s; its next status "
                "replaces this one.",
                buyer=buyer,
            )
        )
        return result
