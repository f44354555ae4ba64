# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero, formatLang, plaintext2html

from .. import wire


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "k2k.guarded.mixin"]

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
        "k2k.message",
        "res_id",
        string="K2K Messages",
        readonly=True,
        # The invoice's own messages; a bill's status messages are the buyer's.
        domain=[
            ("res_model", "=", "account.move"),
            ("message_type", "in", ("invoice", "invoice_cancel")),
        ],
    )
    # -- buyer side --------------------------------------------------------
    k2k_document_uid = fields.Char(
        string="K2K Document", readonly=True, copy=False, index="btree_not_null"
    )
    k2k_vendor_invoice_number = fields.Char(readonly=True, copy=False)
    k2k_vendor_move_id = fields.Many2one(
        "account.move",
        string="Vendor's Invoice",
        compute="_compute_k2k_vendor_move_id",
        help="The vendor's own invoice, when the vendor is in this database.",
    )
    k2k_approval_state = fields.Selection(
        [
            ("pending", "Pending approval by procurement"),
            ("approved", "Approved by procurement"),
            ("disputed", "Disputed with the vendor"),
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
    k2k_restore_check = fields.Boolean(
        string="To Check With the Partner",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The partner restored its database from a backup made before it "
        "sent what this document holds, or sent another document under its "
        "number: check it with the partner (the chatter says what happened).",
    )
    k2k_pending_revision = fields.Integer(readonly=True, copy=False)
    # The held revision whole, its PDFs with it: read only when applied,
    # never with the bill's other columns (a list of bills would load every
    # held PDF), and stored out of the row by PostgreSQL.
    k2k_pending_envelope = fields.Json(
        string="Vendor Revision Waiting", readonly=True, copy=False, prefetch=False
    )
    k2k_amount_mismatch = fields.Boolean(
        string="Total Differs from Purchase Order",
        compute="_compute_k2k_mismatch",
        store=True,
    )
    k2k_qty_mismatch = fields.Boolean(
        string="Billed Quantity Differs from Received",
        compute="_compute_k2k_mismatch",
        store=True,
        help="A receipt was validated and the quantity received differs from "
        "the quantity billed.",
    )
    k2k_awaiting_receipt = fields.Boolean(
        string="Awaiting Receipt",
        compute="_compute_k2k_mismatch",
        store=True,
        help="Billed before all the goods came in: the rest is still expected.",
    )
    k2k_vendor_amount_total = fields.Monetary(
        string="Vendor's Total",
        readonly=True,
        copy=False,
        help="The vendor's invoice total, taxes included (zero when the vendor's "
        "version of K2K does not send it).",
    )
    k2k_tax_mismatch = fields.Boolean(
        string="Taxes Differ from the Vendor's",
        compute="_compute_k2k_tax_mismatch",
        store=True,
        help="The bill's total, taxes included, is not the vendor's: the buyer's "
        "taxes give another amount than the vendor's.",
    )
    k2k_product_missing = fields.Boolean(
        string="Line Without a Product",
        compute="_compute_k2k_product_missing",
        store=True,
        help="A line of the vendor's invoice matches no product of yours (none "
        "bought from this vendor under its code): give it a product or check "
        "its account and taxes.",
    )

    _sql_constraints = [
        (
            "k2k_document_uid_uniq",
            "UNIQUE(k2k_connection_id, k2k_document_uid)",
            "This vendor invoice already has a bill in this company.",
        ),
    ]

    # ======================================================================
    # Vendor side: queue a message when a K2K invoice is posted or cancelled
    # ======================================================================

    # A buyer's bill is given these when it is made: the messages about it
    # (its status, told to the vendor) leave them as they are.

    # -- buyer side: the bill's fate ----------------------------------------
    k2k_dispute_reason = fields.Selection(
        [
            ("quantity", "Wrong quantity"),
            ("price", "Wrong price"),
            ("damaged", "Damaged goods"),
            ("other", "Other"),
        ],
        string="Dispute Reason",
        readonly=True,
        copy=False,
    )
    k2k_dispute_note = fields.Char(string="Dispute Details", readonly=True, copy=False)
    k2k_sent_back = fields.Boolean(readonly=True, copy=False)
    # -- vendor side: the bill's fate, as the buyer tells it -----------------
    k2k_buyer_status = fields.Selection(
        [
            ("pending", "Pending approval"),
            ("approved", "Approved by procurement"),
            ("sent_back", "Sent back to procurement"),
            ("disputed", "Disputed"),
            ("posted", "Booked"),
            ("partial", "Partially paid"),
            ("paid", "Paid"),
            # Not a word of the protocol: the vendor's own reading of a
            # "paid" bill that paid less than this invoice's total.
            ("short_paid", "Paid short"),
            ("cancelled", "Cancelled"),
            ("deleted", "Deleted at the buyer"),
        ],
        string="At Buyer",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="What became of this invoice at the buyer, as the buyer told it.",
    )
    k2k_buyer_status_date = fields.Datetime(
        string="At Buyer Since", readonly=True, copy=False
    )
    k2k_buyer_status_revision = fields.Integer(readonly=True, copy=False)
    k2k_buyer_amount_paid = fields.Monetary(
        string="Paid at Buyer",
        readonly=True,
        copy=False,
        help="What the buyer paid of its bill of this invoice, as the buyer told it.",
    )
    k2k_buyer_dispute = fields.Char(string="Buyer's Dispute", readonly=True, copy=False)

    # ======================================================================
    # Buyer side: tell the vendor
    # ======================================================================

    @api.depends("k2k_message_ids.connection_id")
    def _compute_k2k_connection_id(self):
        for move in self.filtered(lambda m: not m.k2k_document_uid):
            move.k2k_connection_id = move.k2k_message_ids[:1].connection_id

    @api.depends("k2k_message_ids.revision")
    def _compute_k2k_revision(self):
        for move in self.filtered(lambda m: not m.k2k_document_uid):
            move.k2k_revision = max(move.k2k_message_ids.mapped("revision"), default=0)

    @api.depends("k2k_message_ids.state")
    def _compute_k2k_sync_state(self):
        # The newest message says where the invoice stands; a superseded one
        # says nothing about it.
        for move in self:
            current = move.k2k_message_ids.filtered(lambda m: m.state != "superseded")
            move.k2k_sync_state = current.sorted("id", reverse=True)[:1].state

    @api.depends("k2k_message_ids.partner_res_id")
    @api.depends_context("uid", "allowed_company_ids")
    def _compute_k2k_buyer_move_id(self):
        counterparts = self.env["k2k.message"]._k2k_get_counterparts(self, sent=True)
        for move in self:
            # Only shown to whom may open it: a vendor-only user never
            # meets an access error for the buyer's books.
            bill = counterparts.get(move.id, self.browse())
            move.k2k_buyer_move_id = bill.with_env(self.env)._filtered_access("read")

    def _compute_k2k_vendor_move_id(self):
        counterparts = self.env["k2k.message"]._k2k_get_counterparts(self, sent=False)
        for move in self:
            move.k2k_vendor_move_id = counterparts.get(move.id, self.browse())

    @api.depends_context("uid", "allowed_company_ids")
    def _compute_k2k_vendor_invoice_id(self):
        for move in self:
            move.k2k_vendor_invoice_id = move.k2k_vendor_move_id.with_env(
                self.env
            )._filtered_access("read")

    def _k2k_find_connection(self):
        """The connection of a customer invoice or credit note whose lines
        come from a K2K order (or that reverses a K2K invoice).

        Searched as the superuser, not read through the lines: who posts the
        invoice may not read all its sale orders (a salesperson's own orders
        only), and the lines then show him, and keep in cache, only those he
        may read."""
        self.ensure_one()
        orders = (
            self.env["sale.order.line"]
            .sudo()
            .search([("invoice_lines", "in", self.invoice_line_ids.ids)])
            .order_id
        )
        return orders.k2k_connection_id[:1] or self.reversed_entry_id.k2k_connection_id

    def _k2k_queue_messages(self, message_type):
        """Hand the K2K invoices of ``self`` to the outbox, one batch per
        connection; the invoice's K2K fields follow from the messages."""
        Message = self.env["k2k.message"]
        by_connection = {}
        for move in self.filtered(lambda m: m.is_sale_document(include_receipts=False)):
            # Who posts or cancels an invoice may not read its K2K order.
            connection = (move.k2k_connection_id or move._k2k_find_connection()).sudo()
            if not connection.vendor_company_id.k2k_invoice_sync_enabled:
                continue
            if message_type == "invoice_cancel" and not move.k2k_revision:
                continue  # never sent, nothing to withdraw
            by_connection.setdefault(connection, self.browse())
            by_connection[connection] |= move
        for connection, moves in by_connection.items():
            payloads = None
            if message_type == "invoice_cancel":
                payloads = {move.id: {"invoice_number": move.name} for move in moves}
            Message._k2k_enqueue(connection, message_type, moves, payloads)

    def _post(self, soft=True):
        pending = self.filtered(
            lambda m: m.k2k_approval_state in ("pending", "disputed")
        )
        if pending:
            raise UserError(
                self.env._(
                    "%(bills)s: still pending approval by procurement (or disputed "
                    "with the vendor). A purchase user must approve it for "
                    "accounting before it can be posted.",
                    bills=", ".join(pending.mapped("display_name")),
                )
            )
        posted = super()._post(soft=soft)
        posted._k2k_queue_messages("invoice")
        posted._k2k_queue_bill_status()
        return posted

    def button_cancel(self):
        result = super().button_cancel()
        cancelled = self.filtered(lambda m: m.state == "cancel")
        cancelled._k2k_queue_messages("invoice_cancel")
        cancelled._k2k_queue_bill_status()
        return result

    # -- approval ----------------------------------------------------------

    def action_k2k_approve(self):
        if not self.env.user.has_group("purchase.group_purchase_user"):
            raise UserError(self.env._("Only purchase users can approve K2K bills."))
        for bill in self:
            # A disputed bill may be approved too: the dispute was settled
            # another way.
            if bill.k2k_approval_state not in ("pending", "disputed"):
                raise UserError(
                    self.env._(
                        "%(bill)s is not pending approval.", bill=bill.display_name
                    )
                )
        self._k2k_set_approval(
            "approved",
            self.env._("Approved for accounting by %(user)s.", user=self.env.user.name),
        )

    def action_k2k_restore_checked(self):
        """A person checked with the partner what its restore changed."""
        if not self.env.user.has_group("account.group_account_invoice"):
            raise UserError(
                self.env._("Only billing users can mark K2K documents as checked.")
            )
        self.check_access("write")
        flagged = self.filtered("k2k_restore_check")
        flagged.sudo().write({"k2k_restore_check": False})
        for move in flagged:
            move._message_log(
                body=self.env._(
                    "Checked with the partner by %(user)s.", user=self.env.user.name
                )
            )

    def _k2k_flag_partner_restore(self, text):
        """Flag these documents for a person, with ``text`` in their chatter
        (once: a document flagged already waits for its person)."""
        moves = self.filtered(lambda m: not m.k2k_restore_check)
        moves.write({"k2k_restore_check": True})
        for move in moves:
            move._message_log(body=text)

    def action_k2k_send_back(self):
        if not self.env.user.has_group("account.group_account_invoice"):
            raise UserError(self.env._("Only billing users can send K2K bills back."))
        if any(
            bill.state != "draft" or bill.k2k_approval_state != "approved"
            for bill in self
        ):
            raise UserError(
                self.env._(
                    "Only an approved draft K2K bill can be sent back to procurement."
                )
            )
        self._k2k_set_approval(
            "pending",
            self.env._(
                "Sent back to procurement by %(user)s.", user=self.env.user.name
            ),
        )

    def _k2k_set_approval(self, state, note):
        """Procurement decided: the bill's approval is ``state``, a dispute
        before it is settled, and the vendor is told."""
        # The group was checked by the action: the guarded fields are written
        # by the addon itself, for bills this user may write.
        self.check_access("write")
        self.sudo().write(
            {
                "k2k_approval_state": state,
                "k2k_sent_back": state == "pending",
                "k2k_dispute_reason": False,
                "k2k_dispute_note": False,
            }
        )
        for bill in self:
            bill._message_log(body=note)
        self._k2k_queue_bill_status()

    def action_k2k_apply_vendor_changes(self):
        """Accounting applies the revision the vendor sent after booking."""
        if not self.env.user.has_group("account.group_account_invoice"):
            raise UserError(
                self.env._("Only billing users can apply the vendor's changes.")
            )
        self.check_access("write")
        for bill in self:
            envelope = bill.sudo()._k2k_get_pending_envelope()
            if not envelope:
                raise UserError(
                    self.env._(
                        "%(bill)s has no vendor change waiting.", bill=bill.display_name
                    )
                )
            if bill.state != "draft":
                bill.button_draft()
            # Applied as the vendor's message would have been: as the K2K
            # user, whose files count towards the document's cap
            # (k2k.document._k2k_check_document_limits).
            receiver = bill.sudo().k2k_connection_id._k2k_as_receiver(bill.company_id)
            receiver.env["k2k.document.invoice"]._k2k_update_bill(
                bill.with_env(receiver.env), receiver, envelope
            )
            bill = bill.sudo()
            bill.k2k_approval_state = "pending"

    def _k2k_get_pending_envelope(self):
        """The vendor's revision held for accounting, as it came, if any."""
        self.ensure_one()
        return self.k2k_pending_envelope or None

    # -- the bill's status, as the vendor is told it ------------------------

    def _k2k_get_status_for_vendor(self):
        """The bill's status in the protocol's words."""
        self.ensure_one()
        if self.state == "cancel":
            return "cancelled"
        if self.state == "posted":
            if self.payment_state == "reversed":
                return "cancelled"
            if self.payment_state in ("paid", "in_payment"):
                return "paid"
            return "partial" if self.payment_state == "partial" else "posted"
        if self.k2k_approval_state == "disputed":
            return "disputed"
        if self.k2k_approval_state == "approved":
            return "approved"
        return "sent_back" if self.k2k_sent_back else "pending"

    def _k2k_get_amounts_for_vendor(self):
        """What was paid of the bill and what is left, in its currency (the
        invoice's), once it is booked; else nothing."""
        self.ensure_one()
        if self.state != "posted" or self.payment_state == "reversed":
            return {"amount_paid": False, "amount_residual": False}
        settled = self.amount_total - self.amount_residual
        return {
            "amount_paid": settled - self._k2k_get_amount_written_off(),
            "amount_residual": self.amount_residual,
        }

    def _k2k_get_amount_written_off(self):
        """What of the bill was settled by a payment's write-off (Register
        Payment's "Mark as fully paid"), in the bill's currency: the
        vendor was not paid that, though the bill reads paid."""
        self.ensure_one()
        written_off = 0.0
        partials, _exchange = self._get_reconciled_invoices_partials()
        for _partial, amount, counterpart in partials:
            payment = counterpart.move_id.origin_payment_id
            if not payment:
                continue
            liquidity, counterparts, writeoffs = payment._seek_for_lines()
            total = abs(sum(counterparts.mapped("amount_currency")))
            if not writeoffs or not total:
                continue
            paid = abs(sum(liquidity.mapped("amount_currency")))
            # The payment's share of this bill that its write-off settled.
            written_off += amount * max(total - paid, 0.0) / total
        return self.currency_id.round(written_off)

    def _k2k_queue_bill_status(self):
        """Queue the status of the K2K bills among ``self`` (built as it
        leaves, so that several changes in a row make one message)."""
        Message = self.env["k2k.message"]
        bills = self.filtered(
            lambda m: m.k2k_document_uid
            and m.k2k_connection_id
            and m.is_purchase_document()
        )
        for connection, moves in bills.grouped("k2k_connection_id").items():
            Message._k2k_enqueue(connection, "bill_status", moves)

    def button_draft(self):
        result = super().button_draft()
        self._k2k_queue_bill_status()
        return result

    def unlink(self):
        self._k2k_queue_bill_deleted()
        return super().unlink()

    def _k2k_queue_bill_deleted(self):
        """Tell the vendor that the K2K bills among ``self`` are deleted, and
        remember it: the vendor's next revision makes the bill again. The
        payload is given now: the bill is gone when the message leaves."""
        bills = self.filtered(
            lambda m: m.k2k_document_uid
            and m.k2k_connection_id
            and m.is_purchase_document()
        )
        if not bills:
            return
        Received = self.env["k2k.received"].sudo()
        adapter = self.env["k2k.document.bill.status"]
        for bill in bills:
            Received._k2k_remember_deletion(
                bill, max(bill.k2k_revision, bill.k2k_pending_revision)
            )
        for connection, moves in bills.grouped("k2k_connection_id").items():
            self.env["k2k.message"]._k2k_enqueue(
                connection,
                "bill_status",
                moves,
                {bill.id: adapter._k2k_export_deleted_payload(bill) for bill in moves},
            )

    # -- disputes ----------------------------------------------------------

    def action_k2k_dispute(self):
        """Procurement disputes the bill instead of approving it."""
        self._k2k_check_disputable()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Dispute with the Vendor"),
            "res_model": "k2k.dispute.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_move_ids": self.ids},
        }

    def _k2k_check_disputable(self):
        if not self.env.user.has_group("purchase.group_purchase_user"):
            raise UserError(self.env._("Only purchase users can dispute K2K bills."))
        for bill in self:
            if bill.state != "draft" or bill.k2k_approval_state != "pending":
                raise UserError(
                    self.env._(
                        "%(bill)s: only a K2K bill pending approval can be disputed.",
                        bill=bill.display_name,
                    )
                )

    def _k2k_dispute(self, reason, note):
        self._k2k_check_disputable()
        if reason not in wire.DISPUTE_REASONS:
            raise UserError(self.env._("Choose why the bill is disputed."))
        self.check_access("write")
        # As much as the vendor's side takes of a free text (see wire_values).
        note = (note or "")[:1000]
        self.sudo().write(
            {
                "k2k_approval_state": "disputed",
                "k2k_dispute_reason": reason,
                "k2k_dispute_note": note or False,
                "k2k_sent_back": False,
            }
        )
        for bill in self:
            bill._message_log(
                body=self.env._(
                    "Disputed with the vendor by %(user)s: %(dispute)s",
                    user=self.env.user.name,
                    dispute=bill._k2k_describe_dispute(reason, note),
                )
            )
        self._k2k_queue_bill_status()

    def _k2k_after_vendor_change(self):
        """The vendor answered with an update of a bill, or a credit note on
        it: a dispute on that bill is settled, back to procurement."""
        for bill in self:
            disputed = bill.reversed_entry_id if bill.move_type == "in_refund" else bill
            if not disputed.k2k_dispute_reason:
                continue
            disputed.sudo().write(
                {
                    "k2k_approval_state": "pending",
                    "k2k_dispute_reason": False,
                    "k2k_dispute_note": False,
                }
            )
            disputed._message_log(
                body=self.env._(
                    "The vendor answered the dispute with %(document)s: back to "
                    "procurement for approval.",
                    document=bill.k2k_vendor_invoice_number,
                )
            )
            disputed._k2k_queue_bill_status()

    @api.model
    def _k2k_describe_dispute(self, reason, note):
        labels = dict(
            self._fields["k2k_dispute_reason"]._description_selection(self.env)
        )
        label = labels.get(reason) or reason or ""
        return f"{label}: {note}" if note else label

    # ======================================================================
    # Vendor side: show what the buyer told
    # ======================================================================

    def _k2k_note_bill_made(self):
        """The buyer made its bill of this invoice: the first step of its
        fate there, unless the buyer already told a later one."""
        self.ensure_one()
        if not self.k2k_buyer_status:
            self.write(
                {
                    "k2k_buyer_status": "pending",
                    "k2k_buyer_status_date": fields.Datetime.now(),
                }
            )

    def _k2k_read_buyer_status(self, status, amount_paid):
        """The buyer's status as this invoice shows it: a bill paid in full
        that paid less than this invoice's total is paid short (the buyer's
        taxes gave another total), never "paid"."""
        self.ensure_one()
        if (
            status == "paid"
            and amount_paid not in (None, False)
            and self.currency_id.compare_amounts(amount_paid, self.amount_total) < 0
        ):
            return "short_paid"
        return status

    def _k2k_note_buyer_status(self, connection):
        self.ensure_one()
        labels = dict(self._fields["k2k_buyer_status"]._description_selection(self.env))
        buyer = connection._get_buyer_display_name()
        status = labels[self.k2k_buyer_status]
        if self.k2k_buyer_status in ("partial", "short_paid"):
            status = self.env._(
                "%(status)s, %(paid)s of %(total)s",
                status=status,
                paid=formatLang(
                    self.env, self.k2k_buyer_amount_paid, currency_obj=self.currency_id
                ),
                total=formatLang(
                    self.env, self.amount_total, currency_obj=self.currency_id
                ),
            )
        if self.k2k_buyer_status != "disputed":
            self._message_log(
                body=self.env._("At %(buyer)s: %(status)s.", buyer=buyer, status=status)
            )
            return
        text = self.env._(
            "%(buyer)s disputes this invoice: %(dispute)s",
            buyer=buyer,
            dispute=self.k2k_buyer_dispute,
        )
        # The invoice's salesperson, else the vendor's responsible: never the
        # K2K user who applies the status, nor a user of the buyer.
        self.env["k2k.document"]._k2k_note_for_responsible(
            self,
            text,
            self.env._("Invoice disputed by the buyer"),
            connection._k2k_get_responsible("vendor", self.invoice_user_id),
            # The buyer's words, as text: never as HTML.
            note=plaintext2html(text),
        )

    # -- flags -------------------------------------------------------------

    @api.depends(
        "k2k_document_uid",
        "invoice_line_ids.quantity",
        "invoice_line_ids.price_subtotal",
        "invoice_line_ids.purchase_line_id.qty_received",
        "invoice_line_ids.purchase_line_id.qty_invoiced",
        "invoice_line_ids.purchase_line_id.price_unit",
        # A receipt validated (or cancelled) tells awaited from different.
        "invoice_line_ids.purchase_line_id.move_ids.state",
    )
    def _compute_k2k_mismatch(self):
        for move in self:
            amount_mismatch = qty_mismatch = awaiting = False
            if move.k2k_document_uid and move.move_type == "in_invoice":
                amount_mismatch = move._k2k_has_amount_mismatch()
                qty_mismatch, awaiting = move._k2k_get_receipt_flags()
            move.k2k_amount_mismatch = amount_mismatch
            move.k2k_qty_mismatch = qty_mismatch
            move.k2k_awaiting_receipt = awaiting

    @api.depends("k2k_document_uid", "k2k_vendor_amount_total", "amount_total")
    def _compute_k2k_tax_mismatch(self):
        for move in self:
            move.k2k_tax_mismatch = bool(
                move.k2k_document_uid
                and move.k2k_vendor_amount_total
                and move.currency_id.compare_amounts(
                    move.amount_total, move.k2k_vendor_amount_total
                )
            )

    @api.depends(
        "k2k_document_uid",
        "invoice_line_ids.product_id",
        "invoice_line_ids.display_type",
        "invoice_line_ids.purchase_line_id",
    )
    def _compute_k2k_product_missing(self):
        for move in self:
            move.k2k_product_missing = bool(
                move.k2k_document_uid
                and move.invoice_line_ids.filtered(
                    # A down payment is billed against its purchase line,
                    # which has no product, as Odoo's own are.
                    lambda aml: aml.display_type == "product"
                    and not aml.product_id
                    and not aml.purchase_line_id
                )
            )

    def _k2k_flag_vendor_total(self, vendor_total):
        """The bill's lines are the vendor's: its untaxed total must be the
        vendor's too (checked as a number on receipt). Say so when it is not
        (a line the buyer's accounts could not take, another rounding)."""
        self.ensure_one()
        self._k2k_note_tax_mismatch()
        if vendor_total in (None, False) or not float_compare(
            vendor_total,
            self.amount_untaxed,
            precision_rounding=self.currency_id.rounding,
        ):
            return
        self._message_log(
            body=self.env._(
                "Warning: the vendor's untaxed total is %(vendor)s, this bill's is "
                "%(bill)s.",
                vendor=vendor_total,
                bill=self.amount_untaxed,
            )
        )

    def _k2k_note_tax_mismatch(self):
        """Say on the bill, with both totals, that its taxes do not give the
        vendor's total."""
        self.ensure_one()
        if not self.k2k_tax_mismatch:
            return
        self._message_log(
            body=self.env._(
                "Warning: the vendor's total, taxes included, is %(vendor)s; this "
                "bill's is %(bill)s (taxes %(taxes)s). Check the taxes of its lines.",
                vendor=formatLang(
                    self.env,
                    self.k2k_vendor_amount_total,
                    currency_obj=self.currency_id,
                ),
                bill=formatLang(
                    self.env, self.amount_total, currency_obj=self.currency_id
                ),
                taxes=formatLang(
                    self.env, self.amount_tax, currency_obj=self.currency_id
                ),
            )
        )

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
        """Was a quantity received that differs from the billed one?"""
        return self._k2k_get_receipt_flags()[0]

    def _k2k_get_receipt_flags(self):
        """``(received differently, awaiting receipt)``: whether a billed
        quantity differs from what was received and not billed on another
        bill, beyond what is still expected (the goods of an invoice that
        came first); and whether some billed goods are still expected."""
        self.ensure_one()
        different = awaiting = False
        for line in self.invoice_line_ids.filtered(
            # A down payment is billed, never received.
            lambda aml: aml.purchase_line_id and not aml.is_downpayment
        ):
            po_line = line.purchase_line_id
            rounding = po_line.product_uom.rounding
            billed_here = line.product_uom_id._compute_quantity(
                line.quantity, po_line.product_uom
            )
            # qty_invoiced counts every bill that is not cancelled, this one too.
            billed_elsewhere = po_line.qty_invoiced - billed_here
            open_received = po_line.qty_received - billed_elsewhere
            missing = billed_here - open_received
            if float_is_zero(missing, precision_rounding=rounding):
                continue
            expected = self._k2k_get_expected_qty(po_line)
            if (
                missing > 0
                and float_compare(missing, expected, precision_rounding=rounding) <= 0
            ):
                awaiting = True
            else:
                different = True
        return different, awaiting

    def _k2k_get_expected_qty(self, po_line):
        """What ``po_line`` still expects from receipts not validated yet,
        in its unit."""
        moves = po_line.move_ids.filtered(
            lambda m: m.state not in ("done", "cancel")
            and m.picking_code == "incoming"
            and not m.origin_returned_move_id
        )
        return sum(
            move.product_uom._compute_quantity(
                move.product_uom_qty, po_line.product_uom
            )
            for move in moves
        )

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
        action["domain"] = self.env["k2k.message"]._k2k_get_document_domain(self)
        action["context"] = {}
        return action
