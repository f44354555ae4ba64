# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import formatLang, plaintext2html

from .. import wire

# The bill's fate lives apart from the rest of the K2K bill (account_move.py):
# the buyer's side tells it, the vendor's side shows it.


class AccountMove(models.Model):
    _inherit = "account.move"

    # -- buyer side --------------------------------------------------------
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
    # -- vendor side -------------------------------------------------------
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

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._k2k_queue_bill_status()
        return posted

    def button_cancel(self):
        result = super().button_cancel()
        self.filtered(lambda m: m.state == "cancel")._k2k_queue_bill_status()
        return result

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

    def _k2k_set_approval(self, state, note):
        result = super()._k2k_set_approval(state, note)
        self.sudo().write(
            {
                "k2k_sent_back": state == "pending",
                "k2k_dispute_reason": False,
                "k2k_dispute_note": False,
            }
        )
        self._k2k_queue_bill_status()
        return result

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
        self._message_log(body=text)
        # The invoice's salesperson, else the vendor's responsible: never the
        # K2K user who applies the status, nor a user of the buyer.
        responsible = connection._k2k_get_responsible("vendor", self.invoice_user_id)
        if responsible:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Invoice disputed by the buyer"),
                # The buyer's words, as text: never as HTML.
                note=plaintext2html(text),
                user_id=responsible.id,
            )
