# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import io

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools.pdf import PdfFileReader

from .common import apply_envelope, make_company_user
from .common_flow import K2KFlowCommon


@tagged("post_install", "-at_install")
class TestK2KInvoiceSync(K2KFlowCommon):
    def test_full_flow(self):
        po = self._buyer_po(
            [(self.buyer_rose, 100, 0.80), (self.buyer_tulip, 50, 0.50)]
        )
        self._validate_pickings(po.picking_ids)
        invoice = self._vendor_invoice(po.k2k_sale_order_id)
        # Posting only queues: the buyer's side is untouched until delivery.
        message = invoice.k2k_message_ids
        self.assertEqual(message.state, "queued")
        self.assertEqual(invoice.k2k_sync_state, "queued")
        self.assertFalse(self._bill_of(invoice))

        self._process(pdf=True)
        bill = self._bill_of(invoice)
        self.assertEqual(len(bill), 1)
        self.assertEqual(message.state, "applied")
        self.assertEqual(message.partner_document_ref, bill)
        self.assertEqual(invoice.k2k_sync_state, "applied")
        self.assertRecordValues(
            bill,
            [
                {
                    "move_type": "in_invoice",
                    "company_id": self.buyer.id,
                    "partner_id": self.vendor.partner_id.id,
                    "ref": invoice.name,
                    "invoice_date": invoice.invoice_date,
                    "invoice_date_due": invoice.invoice_date_due,
                    "currency_id": invoice.currency_id.id,
                    "state": "draft",
                    "k2k_approval_state": "pending",
                    "k2k_revision": 1,
                    "amount_untaxed": invoice.amount_untaxed,
                    "k2k_amount_mismatch": False,
                    "k2k_qty_mismatch": False,
                }
            ],
        )
        self.assertEqual(bill.invoice_line_ids.purchase_line_id, po.order_line)
        # The buyer's own accounts and taxes.
        self.assertEqual(
            bill.invoice_line_ids.tax_ids, self.buyer_data["default_tax_purchase"]
        )
        self.assertEqual(bill.invoice_line_ids.account_id.company_ids, self.buyer)
        # The purchase order shows it as billed.
        self.assertEqual(po.order_line.mapped("qty_invoiced"), [100, 50])
        self.assertEqual(po.invoice_ids, bill)
        # The PDF is the bill's main attachment, and both chatters say so.
        self.assertTrue(bill.message_main_attachment_id)
        self.assertEqual(bill.message_main_attachment_id.res_id, bill.id)
        self.assertTrue(bill.message_main_attachment_id.raw)
        self.assertIn("Pending approval by procurement", bill.message_ids[0].body)
        self.assertTrue(
            any(f'data-oe-id="{bill.id}"' in m.body for m in po.message_ids if m.body),
            "the purchase order's chatter links the bill",
        )

    def test_real_pdf_rendered_once_and_reused(self):
        # Odoo's test mode renders reports as HTML; force wkhtmltopdf here.
        po = self._buyer_po([(self.buyer_rose, 10, 0.80)])
        self._validate_pickings(po.picking_ids)
        invoice = self._vendor_invoice(po.k2k_sale_order_id)
        self.env["k2k.message"].with_context(
            force_report_rendering=True
        )._cron_process_messages()
        bill = self._bill_of(invoice)
        pdf = bill.message_main_attachment_id
        self.assertEqual(pdf.mimetype, "application/pdf")
        self.assertTrue(pdf.raw.startswith(b"%PDF"))
        self.assertEqual(pdf.name, f"{invoice.name.replace('/', '_')}.pdf")
        # The vendor keeps it as its own invoice PDF: Send & Print reuses it.
        self.assertEqual(invoice.invoice_pdf_report_id.raw, pdf.raw)

    def test_real_pdfs_rendered_together_and_split_per_invoice(self):
        invoices = self.env["account.move"]
        for qty in (10, 20, 30):
            po = self._buyer_po([(self.buyer_rose, qty, 0.80)])
            self._validate_pickings(po.picking_ids)
            invoice = self._vendor_invoice(po.k2k_sale_order_id, post=False)
            invoices |= invoice
        # The second one is long: it takes more than one page.
        invoices[1].write(
            {
                "invoice_line_ids": [
                    Command.create({"display_type": "line_note", "name": f"Note {i}"})
                    for i in range(80)
                ]
            }
        )
        invoices.action_post()
        self.env["k2k.message"].with_context(
            force_report_rendering=True
        )._cron_process_messages()
        pages = []
        for invoice in invoices:
            pdf = self._bill_of(invoice).message_main_attachment_id
            self.assertEqual(pdf.name, f"{invoice.name.replace('/', '_')}.pdf")
            pages.append(len(PdfFileReader(io.BytesIO(pdf.raw)).pages))
        self.assertEqual(pages[0], 1)
        self.assertGreater(pages[1], 1, "the long invoice keeps all its pages")
        self.assertEqual(pages[2], 1)

    def test_four_combinations_of_automations(self):
        for vendor_sync, buyer_upload in (
            (True, True),
            (True, False),
            (False, True),
            (False, False),
        ):
            with self.subTest(vendor_sync=vendor_sync, buyer_upload=buyer_upload):
                self.vendor.k2k_invoice_sync_enabled = vendor_sync
                self.buyer.k2k_invoice_upload_enabled = buyer_upload
                po, invoice, bill = self._full_flow()
                if not vendor_sync:
                    self.assertFalse(
                        invoice.k2k_message_ids, "the vendor does not sync"
                    )
                    self.assertFalse(bill)
                elif not buyer_upload:
                    self.assertFalse(bill)
                    self.assertEqual(invoice.k2k_message_ids.state, "waiting")
                    self.assertEqual(invoice.k2k_sync_state, "waiting")
                    self.assertEqual(
                        invoice.k2k_message_ids.state_detail,
                        "Waiting for Petal Test Wholesale to allow automatic upload.",
                    )
                else:
                    self.assertEqual(len(bill), 1)
                    self.assertEqual(invoice.k2k_sync_state, "applied")

    def test_waiting_message_sent_once_buyer_allows(self):
        self.buyer.k2k_invoice_upload_enabled = False
        _po, invoice, bill = self._full_flow()
        self.assertFalse(bill)
        message = invoice.k2k_message_ids
        self.assertEqual(message.state, "waiting")
        # The buyer's view of the log shows the same message and status.
        self.assertEqual(
            self.env["k2k.message"]
            .with_company(self.buyer)
            .search(
                [("state", "=", "waiting"), ("buyer_company_id", "=", self.buyer.id)]
            ),
            message,
        )
        self.buyer.k2k_invoice_upload_enabled = True
        self.assertEqual(
            message.state, "queued", "allowing upload re-queues what waited"
        )
        self._process()
        self.assertEqual(message.state, "applied")
        self.assertEqual(len(self._bill_of(invoice)), 1)

    def test_manual_retry(self):
        self.buyer.k2k_invoice_upload_enabled = False
        _po, invoice, _bill = self._full_flow()
        message = invoice.k2k_message_ids
        message.action_retry()
        self.assertEqual(message.state, "queued")
        self._process()
        self.assertEqual(
            message.state, "waiting", "still waiting while the buyer says no"
        )
        message.write({"state": "applied"})
        with self.assertRaisesRegex(
            UserError, "Only failed, waiting, delivered or postponed"
        ):
            message.action_retry()

    def test_failure_is_logged_and_retried(self):
        # The buyer has no purchase journal: the bill cannot be made.
        journal = self.buyer_data["default_journal_purchase"]
        journal.active = False
        _po, invoice, bill = self._full_flow()
        self.assertFalse(bill)
        message = invoice.k2k_message_ids
        self.assertEqual(message.state, "failed")
        self.assertTrue(message.error)
        self.assertEqual(invoice.k2k_sync_state, "failed")
        self.assertIn(
            message, self.env["k2k.message"].search([("state", "=", "failed")])
        )
        journal.active = True
        message.action_retry()
        self._process()
        self.assertEqual(message.state, "applied")
        self.assertFalse(message.error)
        self.assertEqual(len(self._bill_of(invoice)), 1)

    def test_pdf_failure_fails_the_messages_not_the_queue(self):
        po = self._buyer_po([(self.buyer_rose, 10, 0.80), (self.buyer_tulip, 5, 0.50)])
        so = po.k2k_sale_order_id.with_company(self.vendor)
        so.action_confirm()
        self._validate_pickings(so.picking_ids)
        invoices = so._create_invoices()
        invoices.action_post()
        # The invoice report cannot render (a broken customisation).
        template = self.env.ref("account.report_invoice_document")
        good_arch = template.arch_db
        root_end = good_arch.index(">") + 1
        template.arch_db = (
            good_arch[:root_end]
            + '<t t-out="o.k2k_no_such_field.name"/>'
            + good_arch[root_end:]
        )
        self._process()
        message = invoices.k2k_message_ids
        self.assertEqual(message.state, "failed")
        self.assertIn("Could not prepare the invoice", message.error)
        template.arch_db = good_arch
        message.action_retry()
        self._process()
        self.assertEqual(message.state, "applied")

    def test_approval_path(self):
        _po, _invoice, bill = self._full_flow()
        with self.assertRaisesRegex(UserError, "pending approval by procurement"):
            bill.action_post()
        bill.action_k2k_approve()
        self.assertEqual(bill.k2k_approval_state, "approved")
        bill.action_k2k_send_back()
        self.assertEqual(bill.k2k_approval_state, "pending")
        bill.action_k2k_approve()
        bill.action_post()
        self.assertEqual(bill.state, "posted")

    def test_only_purchase_users_approve(self):
        _po, _invoice, bill = self._full_flow()
        accountant = self._k2k_user(
            "k2k_ap_clerk", self.buyer, "account.group_account_invoice"
        )
        with self.assertRaisesRegex(UserError, "Only purchase users"):
            bill.with_user(accountant).action_k2k_approve()

    def test_mismatch_flags(self):
        # Received 80 of the 100 ordered roses, no more expected (the receipt
        # closed without a backorder); the vendor bills 100.
        po = self._buyer_po([(self.buyer_rose, 100, 0.80)])
        po.picking_ids.move_ids.quantity = 80
        action = po.picking_ids.button_validate()
        self.env[action["res_model"]].with_context(**action["context"]).create(
            {}
        ).process_cancel_backorder()
        so = po.k2k_sale_order_id
        invoice = self._vendor_invoice(so, post=False)
        invoice.invoice_line_ids.price_unit = 0.90
        invoice.action_post()
        self._process()
        bill = self._bill_of(invoice)
        self.assertTrue(bill.k2k_qty_mismatch)
        self.assertTrue(bill.k2k_amount_mismatch)
        flagged = self.env["account.move"].search(
            ["|", ("k2k_amount_mismatch", "=", True), ("k2k_qty_mismatch", "=", True)]
        )
        self.assertIn(bill, flagged)
        _po2, _inv2, clean_bill = self._full_flow([(self.buyer_rose, 10, 0.80)])
        self.assertFalse(clean_bill.k2k_qty_mismatch or clean_bill.k2k_amount_mismatch)
        self.assertNotIn(
            clean_bill,
            self.env["account.move"].search([("k2k_qty_mismatch", "=", True)]),
        )

    def test_update_while_bill_is_draft(self):
        _po, invoice, bill = self._full_flow(pdf=True)
        bill.action_k2k_approve()
        first_pdf = bill.message_main_attachment_id
        self._revise(invoice, 0.70)
        self.assertEqual(invoice.k2k_revision, 2)
        self._process(pdf=True)
        self.assertEqual(
            self._bill_of(invoice), bill, "updated in place, not a second bill"
        )
        self.assertEqual(bill.k2k_revision, 2)
        self.assertTrue(bill.k2k_updated_by_vendor)
        self.assertEqual(bill.k2k_approval_state, "pending")
        self.assertEqual(bill.amount_untaxed, invoice.amount_untaxed)
        self.assertNotEqual(bill.message_main_attachment_id, first_pdf)
        self.assertTrue(
            any(first_pdf in m.attachment_ids for m in bill.message_ids),
            "the previous PDF is kept in the chatter",
        )

    def test_update_after_buyer_posted(self):
        _po, invoice, bill = self._full_flow()
        bill.action_k2k_approve()
        bill.action_post()
        booked_total = bill.amount_total
        self._revise(invoice, 0.70)
        self._process()
        message = invoice.k2k_message_ids.sorted("id")[-1]
        self.assertEqual(message.state, "delivered")
        self.assertEqual(bill.state, "posted")
        self.assertEqual(
            bill.amount_total, booked_total, "a booked bill is never changed"
        )
        self.assertTrue(bill.k2k_changed_after_booking)
        self.assertEqual(bill.k2k_pending_revision, 2)
        # Accounting applies it: back to draft, new content, back to procurement.
        bill.action_k2k_apply_vendor_changes()
        self.assertEqual(bill.state, "draft")
        self.assertEqual(bill.k2k_revision, 2)
        self.assertEqual(bill.amount_untaxed, invoice.amount_untaxed)
        self.assertEqual(bill.k2k_approval_state, "pending")
        self.assertFalse(bill.k2k_changed_after_booking)

    def test_older_revision_never_overwrites_newer(self):
        _po, invoice, bill = self._full_flow()
        revision_1 = invoice.k2k_message_ids
        envelope_1 = revision_1._k2k_get_envelope()
        self._revise(invoice, 0.70)
        self._process()
        self.assertEqual(bill.k2k_revision, 2)
        amount = bill.amount_untaxed
        # Revision 1 arrives late (a retry, a slow network).
        outcome = apply_envelope(self.connection.sudo(), envelope_1)
        self.assertEqual(outcome["outcome"], "superseded")
        self.assertEqual(bill.k2k_revision, 2)
        self.assertEqual(bill.amount_untaxed, amount)

    def test_stale_queued_revision_is_superseded(self):
        po = self._buyer_po([(self.buyer_rose, 10, 0.80)])
        invoice = self._vendor_invoice(po.k2k_sale_order_id)
        self._revise(invoice, 0.70)  # before the first revision was sent
        self._process()
        first, second = invoice.k2k_message_ids.sorted("id")
        self.assertEqual(first.state, "superseded")
        self.assertEqual(second.state, "applied")
        self.assertEqual(self._bill_of(invoice).k2k_revision, 2)

    def test_credit_note(self):
        po, invoice, bill = self._full_flow()
        bill.action_k2k_approve()
        bill.action_post()
        wizard = (
            self.env["account.move.reversal"]
            .with_company(self.vendor)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"reason": "Wilted roses", "journal_id": invoice.journal_id.id})
        )
        refund = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        refund.invoice_line_ids[1].unlink()
        refund.invoice_line_ids.quantity = 10
        refund.action_post()
        self._process()
        buyer_refund = self._bill_of(refund)
        self.assertRecordValues(
            buyer_refund,
            [
                {
                    "move_type": "in_refund",
                    "reversed_entry_id": bill.id,
                    "ref": refund.name,
                    "k2k_approval_state": "pending",
                }
            ],
        )
        self.assertEqual(
            buyer_refund.invoice_line_ids.purchase_line_id, po.order_line[0]
        )
        self.assertEqual(po.order_line[0].qty_invoiced, 90)

    def test_cancellation(self):
        _po, invoice, bill = self._full_flow()
        invoice.button_draft()
        invoice.button_cancel()
        self._process()
        self.assertEqual(bill.state, "cancel", "a draft bill is cancelled")
        # A booked bill is only flagged.
        _po2, invoice2, bill2 = self._full_flow()
        bill2.action_k2k_approve()
        bill2.action_post()
        invoice2.button_draft()
        invoice2.button_cancel()
        self._process()
        self.assertEqual(bill2.state, "posted")
        self.assertTrue(bill2.k2k_cancelled_by_vendor)

    def test_same_message_twice_one_bill(self):
        _po, invoice, bill = self._full_flow()
        message = invoice.k2k_message_ids
        message.write({"state": "queued"})
        self._process()
        message.write({"state": "queued"})
        message.action_process_now()
        self.assertEqual(self._bill_of(invoice), bill)
        self.assertEqual(
            self.env["account.move"].search_count(
                [("k2k_document_uid", "=", bill.k2k_document_uid)]
            ),
            1,
        )

    def test_multi_currency(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 0.9)])
        # Rates are per company: the buyer keeps its own.
        self.env["res.currency.rate"].create(
            {
                "name": "2000-01-01",
                "rate": 0.8,
                "currency_id": eur.id,
                "company_id": self.buyer.id,
            }
        )
        self.assertEqual(self.buyer.currency_id.name, "USD")
        po = self._buyer_po([(self.buyer_rose, 100, 0.70)], currency=eur)
        so = po.k2k_sale_order_id
        self.assertEqual(so.currency_id, eur)
        # The vendor settles at the buyer's price (its list gives 0.72 EUR).
        so.order_line.price_unit = 0.70
        self._validate_pickings(po.picking_ids)
        invoice = self._vendor_invoice(so)
        self.assertEqual(invoice.currency_id, eur)
        self._process()
        bill = self._bill_of(invoice)
        self.assertEqual(bill.currency_id, eur)
        self.assertEqual(bill.amount_untaxed, 70.0)
        self.assertAlmostEqual(-bill.amount_untaxed_signed, 70.0 / 0.8, places=2)
        self.assertEqual(bill.company_currency_id.name, "USD")
        self.assertFalse(bill.k2k_amount_mismatch)

    def _k2k_user(self, login, company, groups):
        return make_company_user(self.env, login, company, groups)

    def test_single_company_users(self):
        biller = self._k2k_user(
            "k2k_vendor_biller",
            self.vendor,
            "account.group_account_invoice,sales_team.group_sale_salesman_all_leads",
        )
        ap_clerk = self._k2k_user(
            "k2k_buyer_ap",
            self.buyer,
            "account.group_account_invoice,purchase.group_purchase_user",
        )
        po = self._buyer_po([(self.buyer_rose, 20, 0.80)])
        self._validate_pickings(po.picking_ids)
        so = po.k2k_sale_order_id.with_company(self.vendor)
        so.action_confirm()
        self._validate_pickings(so.picking_ids)
        invoice = so._create_invoices()
        invoice.with_user(biller).with_context(
            allowed_company_ids=self.vendor.ids
        ).action_post()
        self.assertEqual(invoice.k2k_sync_state, "queued")
        self._process()
        bill = self._bill_of(invoice)
        self.assertTrue(bill)
        # The AP clerk works the bill, and cannot read the vendor's invoice.
        bill_as_clerk = bill.with_user(ap_clerk).with_context(
            allowed_company_ids=self.buyer.ids
        )
        bill_as_clerk.read(["name", "k2k_approval_state", "k2k_vendor_move_id"])
        bill_as_clerk.action_k2k_approve()
        bill_as_clerk.action_post()
        self.assertEqual(bill.state, "posted")
        as_clerk = self.env(
            user=ap_clerk, context={"allowed_company_ids": self.buyer.ids}
        )
        self.assertFalse(as_clerk["account.move"].search([("id", "=", invoice.id)]))
        with self.assertRaises(AccessError):
            invoice.with_env(as_clerk).read(["name"])
        # The biller sees the sync status of their invoice and the log, not the bill.
        as_biller = self.env(
            user=biller, context={"allowed_company_ids": self.vendor.ids}
        )
        self.assertEqual(invoice.with_env(as_biller).k2k_sync_state, "applied")
        self.assertTrue(
            as_biller["k2k.message"].search(
                [("res_model", "=", "account.move"), ("res_id", "=", invoice.id)]
            )
        )
        with self.assertRaises(AccessError):
            bill.with_env(as_biller).read(["name"])
        # Smart buttons between invoice and bill only for whom may open both.
        self.assertEqual(invoice.k2k_buyer_move_id, bill)
        self.assertEqual(bill.k2k_vendor_invoice_id, invoice)
        self.assertFalse(invoice.with_env(as_biller).k2k_buyer_move_id)
        self.assertFalse(bill.with_env(as_clerk).k2k_vendor_invoice_id)
        self.assertEqual(invoice.action_k2k_open_buyer_bill()["res_id"], bill.id)
