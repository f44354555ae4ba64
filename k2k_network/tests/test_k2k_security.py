# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The K2K path as an attacker uses it: users writing over RPC what a view
shows read-only, and a second partner of the same database reaching for the
first one's documents."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .. import wire
from .common import (
    add_company_users,
    apply_envelope,
    make_remote_buyer_connection,
)
from .common_flow import K2KFlowCommon


@tagged("post_install", "-at_install")
class TestK2KSecurity(K2KFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._add_buyer_staff()
        add_company_users(cls, cls.vendor, salesman="sales_team.group_sale_salesman")

    def _as(self, records, user):
        company = user.company_id
        return records.with_user(user).with_context(allowed_company_ids=company.ids)

    def _foreign_attachment(self):
        return self.env["ir.attachment"].create(
            {"name": "secret.pdf", "raw": b"%PDF-1.4 x", "res_model": "res.partner"}
        )

    # -- users -----------------------------------------------------------------

    def test_billing_user_cannot_approve_or_clear_flags_by_writing(self):
        _po, _invoice, bill = self._full_flow()
        as_clerk = self._as(bill, self.ap_clerk)
        for vals in (
            {"k2k_approval_state": "approved"},
            {"k2k_approval_state": False},
            {"k2k_changed_after_booking": False},
            {"k2k_document_uid": "another"},
            {"k2k_pending_envelope": {"revision": 99}},
        ):
            with (
                self.subTest(vals=vals),
                self.assertRaisesRegex(
                    AccessError, "change only through the K2K Network"
                ),
            ):
                as_clerk.write(vals)
        self.assertEqual(bill.k2k_approval_state, "pending")
        with self.assertRaisesRegex(UserError, "pending approval by procurement"):
            as_clerk.action_post()
        with self.assertRaisesRegex(AccessError, "change only through"):
            self._as(self.env["account.move"], self.ap_clerk).create(
                {
                    "move_type": "in_invoice",
                    "partner_id": self.vendor.partner_id.id,
                    "k2k_document_uid": "forged",
                }
            )
        # The actions do it, each for its own group.
        with self.assertRaisesRegex(UserError, "Only purchase users"):
            as_clerk.action_k2k_approve()
        self._as(bill, self.purchaser).action_k2k_approve()
        self.assertEqual(bill.k2k_approval_state, "approved")
        as_clerk.action_k2k_send_back()
        self.assertEqual(bill.k2k_approval_state, "pending")

    def test_only_billing_users_apply_vendor_changes(self):
        _po, invoice, bill = self._full_flow()
        bill.action_k2k_approve()
        bill.action_post()
        self._revise(invoice, 0.70)
        self._process()
        self.assertTrue(bill.k2k_changed_after_booking)
        with self.assertRaisesRegex(UserError, "Only billing users"):
            self._as(bill, self.salesman).action_k2k_apply_vendor_changes()
        self._as(bill, self.ap_clerk).action_k2k_apply_vendor_changes()
        self.assertFalse(bill.k2k_changed_after_booking)
        self.assertEqual(bill.k2k_approval_state, "pending")

    def test_order_fields_are_written_by_k2k_only(self):
        po = self._buyer_po([(self.buyer_rose, 10, 0.80)])
        so = po.k2k_sale_order_id
        for records, user, vals in (
            (po, self.purchaser, {"k2k_connection_id": False}),
            (po, self.purchaser, {"k2k_sale_order_ref": "S-FAKE"}),
            (po.order_line, self.purchaser, {"k2k_line_uid": "guessed"}),
            (so, self.salesman, {"k2k_document_uid": "another"}),
            (so.order_line, self.salesman, {"k2k_purchase_line_ref": "guessed"}),
        ):
            with (
                self.subTest(model=records._name, vals=vals),
                self.assertRaisesRegex(AccessError, "change only through"),
            ):
                self._as(records, user).write(vals)
        self.assertTrue(po.is_k2k_order and so.is_k2k_order)

    def test_purchase_user_cannot_rewrite_or_create_messages(self):
        _po, invoice, _bill = self._full_flow()
        message = invoice.k2k_message_ids
        as_purchaser = self._as(message, self.purchaser)
        other = self.env["ir.attachment"].create(
            {
                "name": "secret.pdf",
                "raw": b"%PDF-1.4 secret",
                "res_model": "res.partner",
            }
        )
        for vals in (
            {"state": "queued"},
            {"attachment_id": other.id},
            {"document_uid": "another"},
            {"connection_id": self.connection.id},
            {"res_id": invoice.id + 1},
            {"partner_res_model": "res.partner", "partner_res_id": 1},
            {"partner_reference": "BILL/forged"},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                as_purchaser.write(vals)
        # The receiver's memory and the request log are no user's to write.
        for model in ("k2k.received", "k2k.request"):
            for user in (self.purchaser, self.ap_clerk):
                with self.subTest(model=model, user=user.login):
                    records = self._as(self.env[model], user)
                    with self.assertRaises(AccessError):
                        records.search([])
                    with self.assertRaises(AccessError):
                        records.create({"connection_id": self.connection.id})
        with self.assertRaises(AccessError):
            self._as(self.env["k2k.message"], self.purchaser).create(
                {
                    "name": "forged",
                    "connection_id": self.connection.id,
                    "message_type": "invoice",
                    "document_uid": "forged",
                }
            )
        with self.assertRaisesRegex(AccessError, "Only purchase and billing users"):
            self._as(message, self.salesman).action_retry()

    def test_message_sends_only_its_own_document_and_pdf(self):
        _po, invoice, bill = self._full_flow()
        message = invoice.k2k_message_ids
        other = self.env["ir.attachment"].create(
            {
                "name": "secret.pdf",
                "raw": b"%PDF-1.4 secret",
                "res_model": "res.partner",
            }
        )
        # An administrator's slip (or a rewrite that got through): the
        # outbox still refuses to carry another record's file...
        message.write({"state": "queued", "attachment_id": other.id})
        message.action_process_now()
        self.assertEqual(message.state, "failed")
        self.assertIn("own document's files only", message.error)
        # ...or a document of a company that is not the sending side.
        message.write({"state": "queued", "attachment_id": False, "res_id": bill.id})
        message.action_process_now()
        self.assertEqual(message.state, "failed")
        self.assertIn("does not belong to the sending side", message.error)

    # -- a second partner of the same database ------------------------------------

    def _second_vendor(self):
        """Another vendor company of this database, connected to the same
        buyer, allowed to send invoices."""
        company = self.env["res.company"].create({"name": "Rival Vendor"})
        company.k2k_invoice_sync_enabled = True
        connection = self.env["k2k.connection"].create(
            {"vendor_company_id": company.id, "buyer_company_id": self.buyer.id}
        )
        connection.action_accept_as_vendor()
        connection.action_accept_as_buyer()
        return connection

    def _envelope(self, message_type, document_uid, revision=1, **payload):
        return {
            "version": wire.PROTOCOL_VERSION,
            "type": message_type,
            "document_uid": document_uid,
            "revision": revision,
            "payload": payload,
            "attachments": [],
        }

    def _invoice_envelope(self, uid, po, number, price):
        return self._envelope(
            "invoice",
            uid,
            move_type="out_invoice",
            invoice_number=number,
            invoice_date="2026-11-02",
            invoice_date_due="2026-12-02",
            currency=self.buyer.currency_id.name,
            lines=[
                {
                    "purchase_line_ref": po.order_line.k2k_line_uid,
                    "name": "Roses",
                    "quantity": 10,
                    "price_unit": price,
                    "discount": 0,
                }
            ],
        )

    def test_another_partner_cannot_cancel_or_preempt_a_bill(self):
        po = self._buyer_po([(self.buyer_rose, 10, 0.80)])
        invoice = self._vendor_invoice(po.k2k_sale_order_id)
        uid = invoice.k2k_message_ids.document_uid
        rival = self._second_vendor()
        # Before the real invoice arrives, the rival sends one under its id.
        envelope = self._invoice_envelope(uid, po, "RIVAL/1", 9.0)
        rival_outcome = apply_envelope(rival.sudo(), envelope)
        rival_bill = rival_outcome["record"]
        self.assertFalse(
            rival_bill.invoice_line_ids.purchase_line_id,
            "the rival's lines are not linked to another vendor's order",
        )
        self._process()
        bill = self._bill_of(invoice).filtered(
            lambda b: b.k2k_connection_id == self.connection
        )
        self.assertEqual(len(bill), 1, "the real invoice still makes its bill")
        self.assertEqual(bill.ref, invoice.name)
        self.assertEqual(bill.invoice_line_ids.purchase_line_id, po.order_line)
        # And the rival cannot cancel it.
        outcome = apply_envelope(
            rival.sudo(),
            self._envelope("invoice_cancel", uid, invoice_number=invoice.name),
        )
        self.assertEqual(outcome["record"], rival_bill)
        self.assertEqual(bill.state, "draft")
        self.assertFalse(bill.k2k_cancelled_by_vendor)
        self.assertEqual(bill.k2k_approval_state, "pending")

    def test_another_partner_cannot_cancel_a_k2k_order(self):
        po = self._buyer_po([(self.buyer_rose, 10, 0.80)])
        so = po.k2k_sale_order_id
        uid = (
            self.env["k2k.message"]
            .search([("res_model", "=", "purchase.order"), ("res_id", "=", po.id)])
            .document_uid
        )
        rival_buyer = self.env["res.company"].create({"name": "Rival Buyer"})
        rival = self.env["k2k.connection"].create(
            {
                "vendor_company_id": self.vendor.id,
                "buyer_company_id": rival_buyer.id,
                "buyer_partner_id": self.env["res.partner"]
                .create({"name": "Rival Buyer"})
                .id,
            }
        )
        rival.action_accept_as_vendor()
        rival.action_accept_as_buyer()
        outcome = apply_envelope(
            rival.sudo(),
            self._envelope("order_cancel", uid, purchase_order_name=po.name),
        )
        self.assertEqual(outcome["detail"], "Nothing to cancel.")
        self.assertEqual(so.state, "draft")
        self.assertEqual(so.k2k_connection_id, self.connection)

    # -- messages that overtake each other -------------------------------------------

    def test_a_cancellation_wins_over_what_comes_after_it(self):
        # The order's cancellation arrives first; the order itself later.
        po = self._buyer_po([(self.buyer_rose, 10, 0.80)], confirm=False)
        uid = wire.new_uid()
        connection = self.connection.sudo()
        cancel = self._envelope("order_cancel", uid, purchase_order_name=po.name)
        self.assertEqual(apply_envelope(connection, cancel)["outcome"], "applied")
        orders = self.env["sale.order"].search_count([])
        order = self._envelope(
            "order",
            uid,
            purchase_order_name=po.name,
            currency=self.buyer.currency_id.name,
            lines=[
                {
                    "purchase_line_ref": wire.new_uid(),
                    "vendor_code": "ROSE-V",
                    "product_name": "Rose",
                    "quantity": 10,
                    "price_unit": 0.8,
                    "discount": 0,
                }
            ],
        )
        outcome = apply_envelope(connection, order)
        self.assertEqual(outcome["outcome"], "superseded")
        self.assertEqual(self.env["sale.order"].search_count([]), orders)
        self.assertEqual(
            apply_envelope(connection, cancel)["detail"], "Already cancelled."
        )

    def test_an_invoice_after_its_cancellation_makes_no_bill(self):
        po = self._buyer_po([(self.buyer_rose, 10, 0.80)])
        invoice = self._vendor_invoice(po.k2k_sale_order_id)
        message = invoice.k2k_message_ids
        invoice.button_draft()
        invoice.button_cancel()
        cancel = invoice.k2k_message_ids - message
        self.assertEqual(cancel.message_type, "invoice_cancel")
        self.assertEqual(message.state, "superseded", "never sent: the cancel wins")
        self._process()
        self.assertEqual(cancel.state, "applied")
        # The invoice arrives after all (a partner's retry, a slow network).
        late = self._invoice_envelope(message.document_uid, po, invoice.name, 0.8)
        outcome = apply_envelope(self.connection.sudo(), late)
        self.assertEqual(outcome["outcome"], "superseded")
        self.assertFalse(self._bill_of(invoice))

    # -- the queue: one partner down ---------------------------------------------------

    def test_a_partner_down_does_not_hold_up_the_others(self):
        down = make_remote_buyer_connection(
            self.env,
            self.vendor,
            "Down Buyer",
            "http://127.0.0.1:9",  # nobody listens there
            wire.new_secret(),
        )
        # 300 messages for the partner that is down, queued first...
        self.env["k2k.message"].create(
            [
                {
                    "name": f"Status {number}",
                    "connection_id": down.id,
                    "message_type": "status",
                    "document_uid": wire.new_uid(),
                    "res_model": "k2k.connection",
                    "res_id": down.id,
                    "payload": {"state": "active"},
                }
                for number in range(300)
            ]
        )
        # ...then the healthy partner's invoices.
        invoices = self.env["account.move"]
        for qty in (10, 20, 30):
            po = self._buyer_po([(self.buyer_rose, qty, 0.80)])
            invoices |= self._vendor_invoice(po.k2k_sale_order_id)
        self._process()  # one run of the scheduled action
        self.assertEqual(
            set(invoices.k2k_message_ids.mapped("state")),
            {"applied"},
            "the healthy partner's messages went in the first run",
        )
        down_messages = self.env["k2k.message"].search(
            [("connection_id", "=", down.id)]
        )
        # Tried once: one request, which carried the first batch of them.
        tried = down_messages.filtered("attempt_count")
        self.assertEqual(
            len(tried), self.env["k2k.transport.http"]._k2k_get_batch_size()
        )
        self.assertEqual(set(tried.mapped("attempt_count")), {1})
        self.assertTrue(all(down_messages.mapped("next_attempt_date")))
        self.assertEqual(set(down_messages.mapped("state")), {"queued"})
