# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import functools
import subprocess

from markupsafe import Markup, escape

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero

from odoo.addons.base.models.ir_actions_report import _get_wkhtmltopdf_bin


@functools.cache
def _wkhtmltopdf_prints_several_documents():
    """Only a wkhtmltopdf built with its patched Qt prints several HTML
    documents into one PDF; Debian's (unpatched Qt) fails on it, so there
    each invoice gets a run of its own."""
    try:
        version = subprocess.run(
            [_get_wkhtmltopdf_bin(), "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.lower()
    except (OSError, subprocess.SubprocessError):
        return False
    return "with patched qt" in version


# Vendor document type -> the buyer's counterpart.
K2K_BUYER_MOVE_TYPES = {"out_invoice": "in_invoice", "out_refund": "in_refund"}


class AccountMove(models.Model):
    _inherit = "account.move"

    # -- both sides --------------------------------------------------------
    # Vendor side: computed from the invoice's K2K messages, so that posting
    # only inserts a message (no second write of the invoice). Buyer side:
    # given when the bill is made, which has no message of its own.
    k2k_connection_id = fields.Many2one(
        "k2k.connection",
        compute="_compute_k2k_connection_id",
        store=True,
        readonly=False,
        copy=False,
        index="btree_not_null",
    )
    k2k_revision = fields.Integer(
        compute="_compute_k2k_revision",
        store=True,
        readonly=False,
        copy=False,
        help="Vendor side: how many times this invoice was sent. Buyer side: "
        "the vendor's revision this bill holds.",
    )
    # -- vendor side -------------------------------------------------------
    k2k_sync_state = fields.Selection(
        [
            ("queued", "Queued"),
            ("delivered", "Delivered"),
            ("applied", "Reached the Buyer"),
            ("waiting", "Waiting for Buyer"),
            ("failed", "Failed"),
        ],
        string="K2K Synchronization",
        compute="_compute_k2k_sync_state",
        store=True,
        copy=False,
        # Not tracked: every step is in the Synchronization Log already, and
        # a chatter line per step would cost each synced bill two inserts.
    )
    k2k_buyer_move_id = fields.Many2one(
        "account.move",
        string="Buyer's Bill",
        compute="_compute_k2k_buyer_move_id",
        help="The bill the buyer made of this invoice, when the buyer is in this "
        "database and you may open it.",
    )
    k2k_vendor_invoice_id = fields.Many2one(
        "account.move",
        string="Vendor's Invoice (accessible)",
        compute="_compute_k2k_vendor_invoice_id",
    )
    k2k_message_ids = fields.One2many(
        "k2k.message", "vendor_move_id", string="K2K Messages", readonly=True
    )
    # -- buyer side --------------------------------------------------------
    k2k_document_uid = fields.Char(
        string="K2K Document", readonly=True, copy=False, index="btree_not_null"
    )
    k2k_vendor_invoice_number = fields.Char(readonly=True, copy=False)
    k2k_vendor_move_id = fields.Many2one(
        "account.move",
        string="Vendor's Invoice",
        readonly=True,
        copy=False,
        help="The vendor's own invoice, when the vendor is in this database.",
    )
    k2k_approval_state = fields.Selection(
        [
            ("pending", "Pending approval by procurement"),
            ("approved", "Approved by procurement"),
        ],
        string="K2K Approval",
        readonly=True,
        copy=False,
        tracking=True,
        index="btree_not_null",
    )
    k2k_updated_by_vendor = fields.Boolean(
        string="Updated by Vendor", readonly=True, copy=False
    )
    k2k_changed_after_booking = fields.Boolean(
        string="Changed by the Vendor after Booking", readonly=True, copy=False
    )
    k2k_cancelled_by_vendor = fields.Boolean(
        string="Cancelled by the Vendor", readonly=True, copy=False
    )
    k2k_pending_revision = fields.Integer(readonly=True, copy=False)
    k2k_pending_envelope = fields.Json(readonly=True, copy=False)
    k2k_amount_mismatch = fields.Boolean(
        string="Total Differs from Purchase Order",
        compute="_compute_k2k_mismatch",
        store=True,
    )
    k2k_qty_mismatch = fields.Boolean(
        string="Billed Quantity Differs from Received",
        compute="_compute_k2k_mismatch",
        store=True,
    )

    _sql_constraints = [
        (
            "k2k_document_uid_uniq",
            "UNIQUE(company_id, k2k_document_uid)",
            "This vendor invoice already has a bill in this company.",
        ),
    ]

    # ======================================================================
    # Vendor side: queue a message when a K2K invoice is posted or cancelled
    # ======================================================================

    @api.depends("k2k_message_ids.connection_id")
    def _compute_k2k_connection_id(self):
        for move in self:
            move.k2k_connection_id = move.k2k_message_ids[:1].connection_id

    @api.depends("k2k_message_ids.revision")
    def _compute_k2k_revision(self):
        for move in self:
            move.k2k_revision = max(move.k2k_message_ids.mapped("revision"), default=0)

    @api.depends("k2k_message_ids.state")
    def _compute_k2k_sync_state(self):
        # The newest message says where the invoice stands; a superseded one
        # says nothing about it.
        for move in self:
            current = move.k2k_message_ids.filtered(lambda m: m.state != "superseded")
            move.k2k_sync_state = current.sorted("id", reverse=True)[:1].state

    @api.depends("k2k_message_ids.buyer_move_id")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_k2k_buyer_move_id(self):
        for move in self:
            bills = move.sudo().k2k_message_ids.buyer_move_id
            # Only shown to whom may open it: a vendor-only user never
            # meets an access error for the buyer's books.
            move.k2k_buyer_move_id = bills.with_env(self.env)._filtered_access("read")[
                :1
            ]

    @api.depends("k2k_vendor_move_id")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_k2k_vendor_invoice_id(self):
        for move in self:
            move.k2k_vendor_invoice_id = (
                move.sudo()
                .k2k_vendor_move_id.with_env(self.env)
                ._filtered_access("read")
            )

    def _k2k_find_connection(self):
        """The connection of a customer invoice or credit note whose lines
        come from a K2K order (or that reverses a K2K invoice)."""
        self.ensure_one()
        if not self.is_sale_document(include_receipts=False):
            return self.env["k2k.connection"]
        orders = self.invoice_line_ids.sale_line_ids.order_id
        connection = (
            orders.k2k_connection_id[:1] or self.reversed_entry_id.k2k_connection_id
        )
        return connection

    def _k2k_document_uid_for_sending(self):
        self.ensure_one()
        dbuuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        return f"{dbuuid}/account.move/{self.id}"

    def _k2k_queue_messages(self, message_type):
        message_vals = []
        for move in self.filtered(lambda m: m.is_sale_document(include_receipts=False)):
            connection = move.k2k_connection_id or move._k2k_find_connection()
            if (
                not connection
                or not connection.sudo().vendor_company_id.k2k_invoice_sync_enabled
            ):
                continue
            if message_type == "cancel" and not move.k2k_revision:
                continue  # never sent, nothing to withdraw
            # The invoice's K2K fields follow from this message (computed).
            revision = move.k2k_revision + (1 if message_type == "invoice" else 0)
            message_vals.append(
                {
                    "name": move.name,
                    "connection_id": connection.id,
                    "message_type": message_type,
                    "document_uid": move._k2k_document_uid_for_sending(),
                    "revision": revision,
                    "vendor_move_id": move.id,
                    "payload": {"invoice_number": move.name}
                    if message_type == "cancel"
                    else False,
                }
            )
        if message_vals:
            self.env["k2k.message"].sudo().create(message_vals)
            # Delivery happens in the scheduled action, after this commit.
            self.env["k2k.message"]._k2k_trigger_processing()

    def _post(self, soft=True):
        pending = self.filtered(lambda m: m.k2k_approval_state == "pending")
        if pending:
            raise UserError(
                self.env._(
                    "%(bills)s: still pending approval by procurement. A purchase "
                    "user must approve it for accounting before it can be posted.",
                    bills=", ".join(pending.mapped("display_name")),
                )
            )
        posted = super()._post(soft=soft)
        posted._k2k_queue_messages("invoice")
        return posted

    def button_cancel(self):
        result = super().button_cancel()
        self.filtered(lambda m: m.state == "cancel")._k2k_queue_messages("cancel")
        return result

    def _k2k_get_invoice_pdfs(self):
        """The PDF of each invoice, as ``{move id: ir.attachment}``: the one
        the vendor already has, else rendered for all the others of a company
        in as few wkhtmltopdf runs as possible."""
        result = {}
        to_render = self.filtered(lambda m: not m.invoice_pdf_report_id)
        for move in self - to_render:
            result[move.id] = move.invoice_pdf_report_id
        for company in to_render.company_id:
            moves = to_render.filtered(lambda m, c=company: m.company_id == c)
            result.update(moves._k2k_render_invoice_pdfs())
        return result

    def _k2k_render_invoice_pdfs(self):
        """Render the PDFs of ``self`` (invoices of one company); return
        ``{move id: ir.attachment}``."""
        content_by_id, is_pdf = self._k2k_render_invoice_contents()
        vals_list = []
        for move in self:
            vals = {
                "name": move._get_invoice_report_filename("pdf" if is_pdf else "html"),
                "raw": content_by_id[move.id],
                "mimetype": "application/pdf" if is_pdf else "text/html",
                "res_model": move._name,
                "res_id": move.id,
            }
            if is_pdf:
                # It becomes the vendor's own invoice PDF, which Odoo then
                # reuses (Send & Print) instead of rendering it again.
                vals["res_field"] = "invoice_pdf_report_file"
            vals_list.append(vals)
        attachments = self.env["ir.attachment"].sudo().create(vals_list)
        self.invalidate_recordset(["invoice_pdf_report_id", "invoice_pdf_report_file"])
        return dict(zip(self.ids, attachments, strict=True))

    def _k2k_render_invoice_contents(self):
        """``({move id: bytes}, is_pdf)`` for ``self``, in one wkhtmltopdf
        run when it can be split back into invoices.

        A wkhtmltopdf with patched Qt prints the invoices as several
        documents and Odoo splits them by their outlines; Debian's prints
        them as one document, which Odoo splits page by page only when each
        invoice made exactly one page. When one made more, the batch is
        halved until every part can be split (an invoice alone always can).
        """
        report_name = "account.account_invoices"
        Report = (
            self.env["ir.actions.report"]
            .sudo()
            .with_company(self.company_id)
            .with_context(
                k2k_print_as_one_document=len(self) > 1
                and not _wkhtmltopdf_prints_several_documents()
            )
        )
        content, report_type = Report._pre_render_qweb_pdf(
            report_name, res_ids=self.ids
        )
        if report_type != "pdf":
            # Odoo's test mode renders HTML instead of PDF.
            return Report._get_splitted_report(report_name, content, report_type), False
        if all((content.get(move_id) or {}).get("stream") for move_id in self.ids):
            content.pop(False, None)
            return Report._get_splitted_report(report_name, content, report_type), True
        if len(self) == 1:
            raise UserError(
                self.env._(
                    "The PDF of %(invoice)s could not be made.", invoice=self.name
                )
            )
        half = len(self) // 2
        first, is_pdf = self[:half]._k2k_render_invoice_contents()
        second, _is_pdf = self[half:]._k2k_render_invoice_contents()
        return {**first, **second}, is_pdf

    def _k2k_prepare_invoice_line_payload(self, line):
        sale_lines = line.sale_line_ids
        if not sale_lines and self.reversed_entry_id:
            # A credit note made by hand: take the line of the reversed
            # invoice that sold the same product.
            sale_lines = self.reversed_entry_id.invoice_line_ids.filtered(
                lambda orig: orig.product_id == line.product_id
            )[:1].sale_line_ids
        return {
            "purchase_line_id": sale_lines[:1].k2k_purchase_line_ref or False,
            "product_code": line.product_id.default_code or False,
            "name": line.name,
            "quantity": line.quantity,
            "uom": line.product_uom_id.name,
            "price_unit": line.price_unit,
            "discount": line.discount,
            "taxes": line.tax_ids.mapped("name"),
            "price_subtotal": line.price_subtotal,
            "price_total": line.price_total,
        }

    def _k2k_prepare_invoice_payload(self, connection):
        self.ensure_one()
        lines = self.invoice_line_ids.filtered(
            lambda aml: aml.display_type == "product"
        )
        reversed_uid = False
        if self.reversed_entry_id:
            reversed_uid = self.reversed_entry_id._k2k_document_uid_for_sending()
        return {
            "move_type": self.move_type,
            "invoice_number": self.name,
            "invoice_date": fields.Date.to_string(self.invoice_date),
            "invoice_date_due": fields.Date.to_string(self.invoice_date_due),
            "payment_term": self.invoice_payment_term_id.name or False,
            "payment_reference": self.payment_reference or False,
            "currency": self.currency_id.name,
            "amount_untaxed": self.amount_untaxed,
            "amount_tax": self.amount_tax,
            "amount_total": self.amount_total,
            "reversed_document_uid": reversed_uid,
            "vendor_move_id": self.id,
            "lines": [self._k2k_prepare_invoice_line_payload(line) for line in lines],
        }

    # ======================================================================
    # Buyer side: apply invoice and cancellation messages
    # ======================================================================

    @api.model
    def _k2k_find_bill(self, connection, document_uid):
        return self.search(
            [
                ("k2k_document_uid", "=", document_uid),
                ("company_id", "=", connection.buyer_company_id.id),
            ],
            limit=1,
        )

    @api.model
    def _k2k_apply_invoice_envelope(self, connection, envelope):
        buyer = connection.buyer_company_id
        if not buyer.k2k_invoice_upload_enabled:
            return {
                "outcome": "waiting",
                "detail": self.env._(
                    "Waiting for %(buyer)s to allow automatic upload.",
                    buyer=connection._get_buyer_display_name(),
                ),
            }
        bill = self._k2k_find_bill(connection, envelope["document_uid"])
        revision = envelope["revision"]
        if bill and revision in (bill.k2k_revision, bill.k2k_pending_revision):
            # The same revision again (its answer was lost on the way, or a
            # retry): it is there already, say so without touching anything.
            return {
                "outcome": "applied" if bill.k2k_revision == revision else "delivered",
                "detail": self.env._(
                    "Revision %(revision)s is already on bill %(bill)s.",
                    revision=revision,
                    bill=bill.display_name,
                ),
                "buyer_move_id": bill.id,
            }
        if bill and max(bill.k2k_revision, bill.k2k_pending_revision) > revision:
            return {
                "outcome": "superseded",
                "detail": self.env._(
                    "Revision %(revision)s is older than the bill's: ignored.",
                    revision=revision,
                ),
                "buyer_move_id": bill.id,
            }
        if not bill:
            bill = self._k2k_create_bill(connection, envelope)
            detail = self.env._("Vendor bill created, pending approval by procurement.")
        elif bill.state == "draft":
            bill._k2k_update_bill(connection, envelope)
            detail = self.env._(
                "Draft vendor bill updated to revision %(revision)s, back to "
                "procurement for approval.",
                revision=revision,
            )
        else:
            bill._k2k_hold_revision(envelope)
            return {
                "outcome": "delivered",
                "detail": self.env._(
                    "The bill is already booked: revision %(revision)s waits for "
                    "accounting to apply it.",
                    revision=revision,
                ),
                "buyer_move_id": bill.id,
            }
        return {"outcome": "applied", "detail": detail, "buyer_move_id": bill.id}

    @api.model
    def _k2k_apply_cancel_envelope(self, connection, envelope):
        bill = self._k2k_find_bill(connection, envelope["document_uid"])
        if not bill:
            return {
                "outcome": "applied",
                "detail": self.env._("No bill to cancel."),
            }
        number = (envelope.get("payload") or {}).get("invoice_number") or bill.ref
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
        return {"outcome": "applied", "detail": detail, "buyer_move_id": bill.id}

    # -- building the bill -------------------------------------------------

    @api.model
    def _k2k_get_purchase_lines(self, connection, payload):
        ids = [
            line["purchase_line_id"]
            for line in payload["lines"]
            if line["purchase_line_id"]
        ]
        po_lines = self.env["purchase.order.line"].browse(ids).exists()
        # Only lines of this buyer's orders to this vendor may be billed.
        return po_lines.filtered(
            lambda pol: pol.company_id == connection.buyer_company_id
            and pol.partner_id.commercial_partner_id == connection.vendor_partner_id
        )

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
        po_lines = self._k2k_get_purchase_lines(connection, payload)
        orders = po_lines.order_id
        if orders:
            vals = (
                orders[0].with_context(default_move_type=move_type)._prepare_invoice()
            )
            vals["invoice_origin"] = ", ".join(orders.mapped("name"))
        else:
            vals = {"move_type": move_type, "company_id": buyer.id}
        currency = connection._k2k_get_currency(payload["currency"])
        if not currency.active:
            currency.active = True
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
        if connection.transport == "local":
            vals["k2k_vendor_move_id"] = payload.get("vendor_move_id") or False
        if payload.get("reversed_document_uid"):
            original = self._k2k_find_bill(connection, payload["reversed_document_uid"])
            vals["reversed_entry_id"] = original.id or False
        return vals, po_lines

    @api.model
    def _k2k_bill_line_commands(self, payload, po_lines):
        po_lines_by_id = {pol.id: pol for pol in po_lines}
        return [
            Command.create(
                self._k2k_prepare_bill_line_vals(
                    line, po_lines_by_id.get(line["purchase_line_id"])
                )
            )
            for line in payload["lines"]
        ]

    @api.model
    def _k2k_create_bill(self, connection, envelope):
        vals, po_lines = self._k2k_prepare_bill_vals(connection, envelope)
        # One create with its lines and its PDF: an account.move write is
        # heavy, and each would recompute the bill's totals again.
        vals["invoice_line_ids"] = self._k2k_bill_line_commands(
            envelope["payload"], po_lines
        )
        attachment = self._k2k_create_attachments(envelope)
        vals["message_main_attachment_id"] = attachment[:1].id
        bill = self.with_company(connection.buyer_company_id).create(vals)
        attachment.write({"res_id": bill.id})
        # no_new_invoice: the PDF documents the bill, it is not to be decoded
        # into lines by Odoo's invoice import.
        # A logged note (no notification to compute): the bill's own trace.
        bill._message_log(
            body=self.env._(
                "Vendor bill received from %(vendor)s through K2K: invoice "
                "%(number)s. Pending approval by procurement.",
                vendor=connection._get_vendor_display_name(),
                number=envelope["payload"]["invoice_number"],
            ),
            attachment_ids=attachment.ids,
        )
        bill._k2k_notify_purchase_orders(envelope["payload"]["invoice_number"])
        return bill

    def _k2k_update_bill(self, connection, envelope):
        """Replace a draft bill's content by a newer revision."""
        self.ensure_one()
        previous_pdf = self.message_main_attachment_id
        vals, po_lines = self._k2k_prepare_bill_vals(connection, envelope)
        for key in ("move_type", "company_id", "k2k_document_uid", "invoice_line_ids"):
            vals.pop(key, None)
        attachment = self._k2k_create_attachments(envelope, self.id)
        vals.update(
            {
                "invoice_line_ids": [Command.clear()]
                + self._k2k_bill_line_commands(envelope["payload"], po_lines),
                "message_main_attachment_id": attachment[:1].id
                or self.message_main_attachment_id.id,
                "k2k_updated_by_vendor": True,
                "k2k_changed_after_booking": False,
                "k2k_pending_revision": 0,
                "k2k_pending_envelope": False,
            }
        )
        self.write(vals)
        self._message_log(
            body=self.env._(
                "Warning: updated by the vendor (revision %(revision)s of invoice "
                "%(number)s). Back to procurement for approval. The previous PDF "
                "is attached here.",
                revision=envelope["revision"],
                number=envelope["payload"]["invoice_number"],
            ),
            attachment_ids=(previous_pdf - attachment).ids,
        )

    def _k2k_hold_revision(self, envelope):
        """A booked bill is never changed by the vendor: keep the revision
        for accounting to apply, and say so."""
        self.ensure_one()
        self.write(
            {
                "k2k_changed_after_booking": True,
                "k2k_pending_revision": envelope["revision"],
                "k2k_pending_envelope": envelope,
            }
        )
        self.message_post(
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

    def _k2k_notify_purchase_orders(self, invoice_number):
        self.ensure_one()
        orders = self.invoice_line_ids.purchase_line_id.order_id
        if not orders:
            return
        template = self.env._(
            "Vendor bill %(bill)s received through K2K for invoice %(number)s."
        )
        body = Markup(escape(template)) % {
            "bill": self._get_html_link(),
            "number": invoice_number,
        }
        orders._message_log_batch(dict.fromkeys(orders.ids, body))

    # -- approval ----------------------------------------------------------

    def action_k2k_approve(self):
        if not self.env.user.has_group("purchase.group_purchase_user"):
            raise UserError(self.env._("Only purchase users can approve K2K bills."))
        for bill in self:
            if bill.k2k_approval_state != "pending":
                raise UserError(
                    self.env._(
                        "%(bill)s is not pending approval.", bill=bill.display_name
                    )
                )
        self.write({"k2k_approval_state": "approved"})
        for bill in self:
            bill.message_post(
                body=self.env._(
                    "Approved for accounting by %(user)s.", user=self.env.user.name
                )
            )

    def action_k2k_send_back(self):
        if not self.env.user.has_group("account.group_account_invoice"):
            raise UserError(self.env._("Only billing users can send K2K bills back."))
        for bill in self:
            if bill.state != "draft" or bill.k2k_approval_state != "approved":
                raise UserError(
                    self.env._(
                        "Only an approved draft K2K bill can be sent back to "
                        "procurement."
                    )
                )
        self.write({"k2k_approval_state": "pending"})
        for bill in self:
            bill.message_post(
                body=self.env._(
                    "Sent back to procurement by %(user)s.", user=self.env.user.name
                )
            )

    def action_k2k_apply_vendor_changes(self):
        """Accounting applies the revision the vendor sent after booking."""
        for bill in self:
            if not bill.k2k_pending_envelope:
                raise UserError(
                    self.env._(
                        "%(bill)s has no vendor change waiting.", bill=bill.display_name
                    )
                )
            envelope = bill.k2k_pending_envelope
            if bill.state != "draft":
                bill.button_draft()
            bill.sudo()._k2k_update_bill(bill.k2k_connection_id.sudo(), envelope)
            bill.k2k_approval_state = "pending"

    # -- flags -------------------------------------------------------------

    @api.depends(
        "k2k_document_uid",
        "invoice_line_ids.quantity",
        "invoice_line_ids.price_subtotal",
        "invoice_line_ids.purchase_line_id.qty_received",
        "invoice_line_ids.purchase_line_id.qty_invoiced",
        "invoice_line_ids.purchase_line_id.price_unit",
    )
    def _compute_k2k_mismatch(self):
        for move in self:
            amount_mismatch = qty_mismatch = False
            if move.k2k_document_uid and move.move_type == "in_invoice":
                amount_mismatch = move._k2k_has_amount_mismatch()
                qty_mismatch = move._k2k_has_qty_mismatch()
            move.k2k_amount_mismatch = amount_mismatch
            move.k2k_qty_mismatch = qty_mismatch

    def _k2k_has_amount_mismatch(self):
        """Does the bill cost more or less than its purchase order lines at
        the ordered prices, for the billed quantities?"""
        self.ensure_one()
        expected = billed = 0.0
        for line in self.invoice_line_ids.filtered(
            lambda aml: aml.display_type == "product"
        ):
            billed += line.price_subtotal
            po_line = line.purchase_line_id
            if not po_line:
                continue
            qty = line.product_uom_id._compute_quantity(
                line.quantity, po_line.product_uom
            )
            price = po_line.price_unit * (1 - (po_line.discount or 0.0) / 100.0)
            expected += po_line.currency_id._convert(
                price * qty,
                self.currency_id,
                self.company_id,
                self.invoice_date or fields.Date.today(),
            )
        return not float_is_zero(
            billed - expected, precision_rounding=self.currency_id.rounding
        )

    def _k2k_has_qty_mismatch(self):
        """Does a billed quantity differ from what was received and not yet
        billed on another bill?"""
        self.ensure_one()
        for line in self.invoice_line_ids.filtered("purchase_line_id"):
            po_line = line.purchase_line_id
            billed_here = line.product_uom_id._compute_quantity(
                line.quantity, po_line.product_uom
            )
            # qty_invoiced counts every bill that is not cancelled, this one too.
            billed_elsewhere = po_line.qty_invoiced - billed_here
            open_received = po_line.qty_received - billed_elsewhere
            if float_compare(
                billed_here,
                open_received,
                precision_rounding=po_line.product_uom.rounding,
            ):
                return True
        return False

    def action_k2k_open_buyer_bill(self):
        self.ensure_one()
        return self.k2k_buyer_move_id._get_records_action(
            name=self.env._("Buyer's Bill")
        )

    def action_k2k_open_vendor_invoice(self):
        self.ensure_one()
        return self.k2k_vendor_invoice_id._get_records_action(
            name=self.env._("Vendor's Invoice")
        )

    def action_k2k_open_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "k2k_network.k2k_message_action"
        )
        uids = [self._k2k_document_uid_for_sending()]
        if self.k2k_document_uid:
            uids.append(self.k2k_document_uid)
        action["domain"] = [("document_uid", "in", uids)]
        action["context"] = {}
        return action
