# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, fields, models
from odoo.tools import float_compare, float_round

from .. import wire
from ..wire_values import TAX_AMOUNT_TYPES

# Vendor document type -> the buyer's counterpart.
K2K_BUYER_MOVE_TYPES = {"out_invoice": "in_invoice", "out_refund": "in_refund"}


class K2KDocumentInvoice(models.AbstractModel):
    """Invoices and credit notes, vendor -> buyer: the vendor's posted
    invoice becomes the buyer's vendor bill, its next revisions update or
    flag that bill; its cancellation cancels or flags that bill."""

    _name = "k2k.document.invoice"
    _inherit = "k2k.document"
    _description = "K2K Invoice Adapter"

    @api.model
    def _k2k_get_message_types(self):
        return {
            **super()._k2k_get_message_types(),
            "invoice": self.env._("Invoice"),
            "invoice_cancel": self.env._("Invoice Cancellation"),
        }

    # -- export side: the vendor's invoice -> envelope ---------------------

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

    # -- apply side: envelope -> the buyer's bill --------------------------

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
        if bill:
            self._k2k_check_document_limits(bill, envelope)
        received = self.env["k2k.received"]._k2k_get_received(
            connection, envelope["document_uid"]
        )
        if not bill and received.deleted_revision:
            if revision <= received.deleted_revision:
                # Deleted on purpose: only a newer revision makes it again.
                return self._k2k_outcome(
                    "superseded",
                    self.env._(
                        "The bill of this invoice was deleted here at revision "
                        "%(deleted)s: revision %(revision)s is ignored.",
                        deleted=received.deleted_revision,
                        revision=revision,
                    ),
                )
            bill = self._k2k_create_bill(connection, envelope)
            self._k2k_note_made_again(bill, received, envelope)
            detail = self.env._(
                "The deleted vendor bill was made again from revision %(revision)s, "
                "pending approval by procurement.",
                revision=revision,
            )
        elif not bill:
            bill = self._k2k_create_bill(connection, envelope)
            detail = self._k2k_describe_created()
        elif (
            bill.state == "cancel"
            and received.cancelled_revision
            and bill.k2k_revision <= received.cancelled_revision
        ):
            # Cancelled by the vendor's cancellation, not by the buyer after
            # an earlier reopening: only then does the bill come back.
            self._k2k_reopen_bill(bill, connection, envelope)
            detail = self.env._(
                "The vendor posted its cancelled invoice again: the bill is a draft "
                "again, updated to revision %(revision)s, back to procurement for "
                "approval.",
                revision=revision,
            )
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
    def _k2k_apply_together(self, connection, envelopes):
        """The invoices of a batch that become new bills, made in one
        ``create``: Odoo computes a batch of moves together at a fraction of
        the cost of each alone. Only what nothing else in the batch can
        change is taken (see ``k2k.inbox._k2k_apply_batch``): a
        first revision, no bill or cancellation of it yet, no credit note
        naming a bill."""
        if not connection.buyer_company_id.k2k_invoice_upload_enabled:
            return {}
        fresh = {
            index: envelope
            for index, envelope in envelopes.items()
            if envelope["type"] == "invoice"
            and not envelope["payload"].get("reversed_document_uid")
        }
        uids = [envelope["document_uid"] for envelope in fresh.values()]
        known = set(
            self.env["account.move"]
            .search(
                [
                    ("k2k_connection_id", "=", connection.id),
                    ("k2k_document_uid", "in", uids),
                ]
            )
            .mapped("k2k_document_uid")
        ) | set(
            self.env["k2k.received"]
            .search(
                [
                    ("connection_id", "=", connection.id),
                    ("document_uid", "in", uids),
                ]
            )
            .mapped("document_uid")
        )
        fresh = {
            index: envelope
            for index, envelope in fresh.items()
            if envelope["document_uid"] not in known
        }
        if len(fresh) < 2:
            return {}
        bills = self._k2k_create_bills(connection, list(fresh.values()))
        detail = self._k2k_describe_created()
        return {
            index: self._k2k_outcome("applied", detail, bill)
            for index, bill in zip(fresh, bills, strict=True)
        }

    @api.model
    def _k2k_describe_created(self):
        return self.env._("Vendor bill created, pending approval by procurement.")

    @api.model
    def _k2k_create_bill(self, connection, envelope):
        return self._k2k_create_bills(connection, [envelope])

    @api.model
    def _k2k_create_bills(self, connection, envelopes):
        """One new bill per envelope, in one ``create`` with their lines and
        PDFs (an account.move write is heavy, and each would compute the
        totals again); return them in the envelopes' order."""
        vals_list = []
        attachments = []
        for envelope in envelopes:
            vals, po_lines = self._k2k_prepare_bill_vals(connection, envelope)
            vals["invoice_line_ids"] = self._k2k_bill_line_commands(
                envelope["payload"], po_lines
            )
            self._k2k_complete_bill_lines(connection, vals, envelope["payload"])
            attachment = self._k2k_create_attachments(envelope)
            vals["message_main_attachment_id"] = attachment[:1].id
            vals_list.append(vals)
            attachments.append(attachment)
        Move = self.env["account.move"].with_company(connection.buyer_company_id)
        bills = Move.create(vals_list)
        vendor = connection._get_vendor_display_name()
        for bill, attachment, envelope in zip(
            bills, attachments, envelopes, strict=True
        ):
            payload = envelope["payload"]
            attachment.write({"res_id": bill.id})
            # A logged note (no notification to compute): the bill's own trace.
            bill._message_log(
                body=self.env._(
                    "Vendor bill received from %(vendor)s through K2K: invoice "
                    "%(number)s. Pending approval by procurement.",
                    vendor=vendor,
                    number=payload["invoice_number"],
                ),
                attachment_ids=attachment.ids,
            )
            bill._k2k_flag_vendor_total(payload.get("amount_untaxed"))
            bill.invoice_line_ids.purchase_line_id.order_id._k2k_note_bill_received(
                bill, payload["invoice_number"]
            )
        bills._k2k_after_vendor_change()
        self._k2k_flag_reused_numbers(connection, bills)
        return bills

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
        self._k2k_complete_bill_lines(connection, vals, envelope["payload"])
        bill.write(vals)
        bill._message_log(
            body=self.env._(
                "Warning: updated by the vendor (revision %(revision)s of invoice "
                "%(number)s). Back to procurement for approval. The previous PDF "
                "is attached here.",
                **self._k2k_revision_words(envelope),
            ),
            attachment_ids=(previous_pdf - attachment).ids,
        )
        bill._k2k_flag_vendor_total(envelope["payload"].get("amount_untaxed"))

    @api.model
    def _k2k_revision_words(self, envelope):
        """How the bill's chatter names the vendor's revision that
        ``envelope`` carries: its number and the invoice's."""
        return {
            "revision": envelope["revision"],
            "number": envelope["payload"]["invoice_number"],
        }

    @api.model
    def _k2k_hold_revision(self, bill, envelope):
        """A booked bill is never changed by the vendor: keep the revision
        for accounting to apply, and say so."""
        bill.write(
            {
                "k2k_changed_after_booking": True,
                "k2k_pending_revision": envelope["revision"],
                "k2k_pending_envelope": envelope,
                # A newer revision is the invoice posted again at the vendor:
                # a cancellation before it no longer holds.
                "k2k_cancelled_by_vendor": False,
            }
        )
        bill._message_log(
            body=self.env._(
                "Warning: the vendor changed invoice %(number)s after this bill was "
                "booked (revision %(revision)s). Accounting can apply the change "
                "with “Apply Vendor Changes”.",
                **self._k2k_revision_words(envelope),
            ),
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

    # -- apply side: building the bill -------------------------------------

    @api.model
    def _k2k_prepare_bill_vals(self, connection, envelope):
        payload = envelope["payload"]
        # The purchase order's down-payment lines first: the bill's lines
        # are then linked to them as to any other purchase line.
        self._k2k_make_downpayment_lines(connection, payload)
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
                "k2k_vendor_amount_total": payload.get("amount_total") or 0.0,
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
    def _k2k_prepare_bill_line_vals(self, line, po_line):
        if po_line:
            vals = po_line._prepare_account_move_line()
            # The amounts are the vendor's, not the order's: let the bill
            # compute its balance from them.
            vals.pop("balance", None)
            # In the purchase line's unit, as Odoo's own bill of the order,
            # when the vendor's quantity is a whole number of it (10 Dozens
            # for 120 Units); else in the vendor's unit, which Odoo counts
            # against the purchase line all the same: 100 Units are no
            # 8.33 Dozens, and the amounts must stay the vendor's.
            told_uom = self._k2k_get_uom(
                line.get("uom"), po_line.product_uom, po_line.product_id
            )
            if self._k2k_converts_exactly(line, told_uom, po_line.product_uom):
                line = self._k2k_convert_to_uom(
                    line, po_line.product_uom, po_line.product_id
                )
            else:
                vals["product_uom_id"] = told_uom.id
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
    def _k2k_converts_exactly(self, line, told_uom, uom):
        """Whether ``line``'s quantity, in ``told_uom``, is a quantity of
        ``uom`` that a bill line holds without rounding."""
        if told_uom == uom:
            return True
        quantity = told_uom._compute_quantity(line["quantity"], uom, round=False)
        digits = self.env["decimal.precision"].precision_get("Product Unit of Measure")
        return not float_compare(
            quantity, float_round(quantity, precision_digits=digits), precision_digits=8
        )

    # -- apply side: the buyer's products and taxes ------------------------

    @api.model
    def _k2k_complete_bill_lines(self, connection, vals, payload):
        """Give the new lines of ``vals`` the buyer's own product and taxes:
        a line without a purchase line the product the buyer buys under the
        vendor's code (its account then follows from Odoo's own line
        computes); each line the buyer's taxes that give the vendor's tax
        (see ``_k2k_choose_taxes``). A line left without a product is
        flagged on the bill (``k2k_product_missing``)."""
        buyer = connection.buyer_company_id
        Tax = self.env["account.tax"].with_company(buyer)
        new_lines = [
            command[2]
            for command in vals["invoice_line_ids"]
            if command[0] == Command.CREATE
        ]
        pairs = [
            (line_vals, line)
            for line_vals, line in zip(new_lines, payload["lines"], strict=False)
            if line_vals.get("display_type", "product") == "product"
        ]
        unordered = [
            (line_vals, line)
            for line_vals, line in pairs
            if not line_vals.get("purchase_line_id") and not line_vals.get("product_id")
        ]
        if not unordered and all("taxes" not in line for _vals, line in pairs):
            return  # an older partner's lines, all ordered: as before
        fiscal_position = self._k2k_get_bill_fiscal_position(connection, vals)
        currency = self.env["res.currency"].browse(vals["currency_id"])
        products = self._k2k_find_billed_products(
            connection, [line.get("vendor_code") for _vals, line in unordered]
        )
        for line_vals, line in unordered:
            product = products.get(line.get("vendor_code"))
            if product:
                line_vals["product_id"] = product.id
                line_vals["tax_ids"] = [
                    Command.set(
                        fiscal_position.map_tax(
                            product.supplier_taxes_id._filter_taxes_by_company(buyer)
                        ).ids
                    )
                ]
        for line_vals, line in pairs:
            if "taxes" not in line:
                continue
            taxes = Tax.browse(self._k2k_get_command_ids(line_vals.get("tax_ids")))
            chosen = self._k2k_choose_taxes(
                line, taxes, fiscal_position, buyer, currency
            )
            if chosen != taxes or "tax_ids" not in line_vals:
                line_vals["tax_ids"] = [Command.set(chosen.ids)]

    @api.model
    def _k2k_get_bill_fiscal_position(self, connection, vals):
        """The bill's fiscal position: its purchase order's, else the one
        Odoo gives the vendor in the buyer's company."""
        FiscalPosition = self.env["account.fiscal.position"]
        if "fiscal_position_id" in vals:
            return FiscalPosition.browse(vals["fiscal_position_id"])
        return FiscalPosition.with_company(
            connection.buyer_company_id
        )._get_fiscal_position(connection.vendor_partner_id)

    @api.model
    def _k2k_get_command_ids(self, commands):
        """The ids a ``Command.set`` (as ``_prepare_account_move_line``
        gives it) names."""
        for command in commands or []:
            if command[0] == Command.SET:
                return list(command[2])
        return []

    @api.model
    def _k2k_find_billed_products(self, connection, codes):
        """The buyer's product for each vendor code: the one it buys from
        this vendor under that code (its supplier info), else a product both
        companies share whose internal reference it is (as the order
        adapter names them the other way)."""
        codes = {code for code in codes if code}
        if not codes:
            return {}
        buyer = connection.buyer_company_id
        vendor = connection.vendor_partner_id.commercial_partner_id
        found = {}
        for seller in self.env["product.supplierinfo"].search(
            [
                ("partner_id", "child_of", vendor.id),
                ("product_code", "in", list(codes)),
                ("company_id", "in", [buyer.id, False]),
            ]
        ):
            product = seller.product_id or seller.product_tmpl_id.product_variant_id
            if product.company_id in (buyer, self.env["res.company"]):
                found.setdefault(seller.product_code, product)
        missing = codes - set(found)
        if missing:
            for product in self.env["product.product"].search(
                [("default_code", "in", list(missing)), ("company_id", "=", False)]
            ):
                found.setdefault(product.default_code, product)
        return found

    @api.model
    def _k2k_choose_taxes(self, line, taxes, fiscal_position, company, currency):
        """The buyer's taxes for a vendor's line. The buyer's own (the
        purchase line's or the product's, mapped by the fiscal position)
        when they are of the vendor's kinds and rates, or give the vendor's
        line total all the same (a reverse charge); else the buyer's
        purchase taxes of the vendor's kinds and rates, one for each, when
        its setup has them (after its fiscal position); else its own, and
        the bill's total shows the difference (``k2k_tax_mismatch``)."""
        wanted = sorted(
            self._k2k_tax_key(tax["amount_type"], tax["amount"], tax["price_include"])
            for tax in line["taxes"]
        )
        if not wanted or self._k2k_get_tax_keys(taxes) == wanted:
            # A line the vendor charges no tax on keeps the buyer's own: were
            # they dropped, the totals would agree and nobody would look at
            # the input tax the buyer loses; kept, the bill is flagged.
            return taxes
        price_total = line.get("price_total")
        if price_total is not None and price_total is not False:
            total = taxes.compute_all(
                line["price_unit"] * (1 - (line["discount"] or 0.0) / 100.0),
                currency=currency,
                quantity=line["quantity"],
            )["total_included"]
            if not float_compare(
                total, price_total, precision_rounding=currency.rounding
            ):
                return taxes
        same = self.env["account.tax"]
        for key in wanted:
            tax = self._k2k_find_same_tax(key, fiscal_position, company)
            if not tax:
                return taxes
            same |= tax
        return same

    @api.model
    def _k2k_tax_key(self, amount_type, amount, price_include):
        return (amount_type, float_round(amount, precision_digits=4), price_include)

    @api.model
    def _k2k_get_tax_keys(self, taxes):
        return sorted(
            self._k2k_tax_key(tax.amount_type, tax.amount, tax.price_include)
            for tax in taxes.flatten_taxes_hierarchy()
        )

    @api.model
    def _k2k_find_same_tax(self, key, fiscal_position, company):
        """The buyer's first purchase tax (in its sequence) of this kind and
        rate that its fiscal position keeps so and that charges its whole
        amount (not a reverse charge, which the vendor does not charge)."""
        amount_type, amount, _price_include = key
        Tax = self.env["account.tax"]
        countries = (
            company.account_fiscal_country_id
            | fiscal_position.filtered("foreign_vat").country_id
        )
        for tax in Tax.search(
            [
                *Tax._check_company_domain(company),
                ("type_tax_use", "=", "purchase"),
                ("amount_type", "=", amount_type),
                ("amount", "=", amount),
                ("country_id", "in", countries.ids),
            ]
        ):
            mapped = fiscal_position.map_tax(tax)
            charged = sum(
                mapped.invoice_repartition_line_ids.filtered(
                    lambda rep: rep.repartition_type == "tax"
                ).mapped("factor_percent")
            )
            if self._k2k_get_tax_keys(mapped) == [key] and not float_compare(
                charged, 100.0, precision_digits=2
            ):
                return mapped
        return Tax

    # -- apply side: down payments -----------------------------------------

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

    # -- reactions: the invoice cancelled, posted again, its bill deleted ---

    @api.model
    def _k2k_apply_cancel(self, connection, envelope):
        bill = self._k2k_find_bill(connection, envelope["document_uid"])
        if not bill:
            return self._k2k_outcome("applied", self.env._("No bill to cancel."))
        if bill.state == "cancel":
            # Cancelled already (an invoice posted again and cancelled again
            # before the new revision left).
            return self._k2k_outcome("applied", self.env._("Already cancelled."), bill)
        number = envelope["payload"].get("invoice_number") or bill.ref
        if bill.state == "draft":
            bill.k2k_approval_state = False
            bill.button_cancel()
            note = self.env._(
                "Cancelled: the vendor cancelled invoice %(number)s.", number=number
            )
            detail = self.env._("Draft bill cancelled.")
        else:
            bill.k2k_cancelled_by_vendor = True
            note = self.env._(
                "Warning: the vendor cancelled invoice %(number)s after this "
                "bill was booked. Reverse it or ask the vendor.",
                number=number,
            )
            detail = self.env._(
                "The bill is booked: flagged as cancelled by the vendor."
            )
        bill._message_log(body=note)
        return self._k2k_outcome("applied", detail, bill)

    @api.model
    def _k2k_can_reopen(self, envelope):
        # A vendor may reset a cancelled invoice and post it again: the same
        # document comes back to the buyer (a cancellation of it too).
        return True

    @api.model
    def _k2k_reopen_bill(self, bill, connection, envelope):
        """The vendor posted again the invoice it cancelled while its bill
        was a draft: the bill is a draft again, updated, back to
        procurement."""
        bill.button_draft()
        self._k2k_update_bill(bill, connection, envelope)
        # Approved or sent back before the cancellation: this is another
        # revision, for procurement to check anew.
        bill.write({"k2k_approval_state": "pending", "k2k_sent_back": False})
        bill._k2k_after_vendor_change()

    @api.model
    def _k2k_note_made_again(self, bill, received, envelope):
        """``bill`` was made again of an invoice whose earlier bill was
        deleted here: it is that bill updated, not a new invoice."""
        bill.k2k_updated_by_vendor = True
        bill._message_log(
            body=self.env._(
                "Warning: updated by the vendor (revision %(revision)s of invoice "
                "%(number)s). The earlier bill of this invoice (revision "
                "%(deleted)s) was deleted here.",
                **self._k2k_revision_words(envelope),
                deleted=received.deleted_revision,
            )
        )
        # The status messages of the deleted bill become this bill's, so
        # that its status goes on under the same document and revisions and
        # the vendor never takes the older one for the newer.
        self.env["k2k.message"].sudo().search(
            [
                ("connection_id", "=", received.connection_id.id),
                ("message_type", "=", "bill_status"),
                ("res_model", "=", "account.move"),
                ("res_id", "=", received.deleted_res_id),
            ]
        ).write({"res_id": bill.id})
        received.deleted_res_id = False
        bill._k2k_queue_bill_status()

    # -- reactions: the buyer's outcome, back at the vendor ----------------

    @api.model
    def _k2k_on_outcome(self, message, outcome):
        result = super()._k2k_on_outcome(message, outcome)
        if message.message_type == "invoice" and outcome["outcome"] == "applied":
            self.env["account.move"].browse(message.res_id)._k2k_note_bill_made()
        return result

    @api.model
    def _k2k_on_send_again(self, messages):
        """The buyer lost the bills of ``messages``: the bills it makes again
        tell their status from the first revision on."""
        result = super()._k2k_on_send_again(messages)
        invoices = self.env["account.move"].browse(
            messages.filtered(lambda m: m.message_type == "invoice").mapped("res_id")
        )
        invoices.exists().write({"k2k_buyer_status_revision": 0})
        return result

    @api.model
    def _k2k_on_partner_restarted(self, connection, received):
        """The vendor restored its database from a backup made before it
        sent these invoices (or these revisions of them): it may no longer
        have them. Their bills are flagged for a person."""
        result = super()._k2k_on_partner_restarted(connection, received)
        vendor = connection._get_vendor_display_name()
        for item in received:
            bill = self._k2k_find_bill(connection, item.document_uid)
            bill._k2k_flag_partner_restore(
                self.env._(
                    "%(vendor)s restored its database from a backup made before it "
                    "sent this invoice as it is here: it may no longer have it, or "
                    "have an older version. Check with %(vendor)s before paying; "
                    "its next version of this invoice replaces this one as usual.",
                    vendor=vendor,
                )
            )
        return result

    @api.model
    def _k2k_flag_reused_numbers(self, connection, bills):
        """Flag each of ``bills`` whose vendor number another document of
        the vendor already came under (Odoo's own duplicate search): the
        vendor numbered again after restoring its database, or made two
        documents of one number. Never merged: a person compares them."""
        duplicates = bills._fetch_duplicate_reference()
        vendor = connection._get_vendor_display_name()
        for bill in bills:
            others = duplicates.get(bill, self.env["account.move"]).filtered(
                lambda m, bill=bill: m.k2k_document_uid
                and m.k2k_document_uid != bill.k2k_document_uid
                and m.k2k_connection_id == connection
            )
            if others:
                bill._k2k_flag_partner_restore(
                    self.env._(
                        "%(vendor)s sent another document under the number "
                        "%(number)s before: %(bills)s. It may have restored its "
                        "database and numbered again. Check with %(vendor)s "
                        "which is right before approving.",
                        vendor=vendor,
                        number=bill.ref,
                        bills=", ".join(others.mapped("display_name")),
                    )
                )
