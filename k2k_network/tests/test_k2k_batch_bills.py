# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Invoices of one batch request become their bills together (one
``create``), through Odoo's real HTTP stack, and so do those a run delivers
to a buyer of the same database; what could depend on the order of the
batch, or fails, goes one by one."""

from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .. import wire
from .common import invoice_envelope, make_remote_vendor_connection, signed_body
from .common_flow import K2KFlowCommon


@tagged("post_install", "-at_install")
class TestK2KBatchBills(HttpCase):
    def setUp(self):
        super().setUp()
        self.buyer = self.env["res.company"].create({"name": "K2K Batch Bills Buyer"})
        self.env["account.chart.template"].try_loading(
            "generic_coa", self.buyer, install_demo=False
        )
        self.buyer.k2k_invoice_upload_enabled = True
        self.secret = wire.new_secret()
        self.connection = make_remote_vendor_connection(
            self.env, self.buyer, "Batch Bills Vendor", self.secret
        )

    def _invoice(self, uid, number, price, revision=1, currency=None):
        return invoice_envelope(
            uid, number, price, currency or self.buyer.currency_id.name, revision
        )

    def _post(self, envelopes):
        body, headers = signed_body(
            self, self.connection, self.secret, wire.BATCH_PATH, {"messages": envelopes}
        )
        Move = type(self.env["account.move"])
        create = Move.create
        sizes = []  # how many bills each create made

        def counted(records, vals_list):
            if isinstance(vals_list, list):
                sizes.append(len(vals_list))
            return create(records, vals_list)

        with patch.object(Move, "create", counted):
            response = self.url_open(wire.BATCH_PATH, data=body, headers=headers)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()["outcomes"], sizes

    def _bill(self, uid):
        return self.env["account.move"].search(
            [
                ("k2k_connection_id", "=", self.connection.id),
                ("k2k_document_uid", "=", uid),
            ]
        )

    def test_new_invoices_become_bills_in_one_create(self):
        outcomes, sizes = self._post(
            [
                self._invoice("inv-a", "INV/A", 1.0),
                self._invoice("inv-b", "INV/B", 2.0),
                # Two revisions of one invoice: the order matters, one by one.
                self._invoice("inv-d", "INV/D", 4.0),
                self._invoice("inv-d", "INV/D", 4.5, revision=2),
                self._invoice("inv-e", "INV/E", 5.0),
            ]
        )
        self.assertEqual([o["outcome"] for o in outcomes], ["applied"] * 5)
        # In the batch's order: A and B together, then D's first revision
        # alone (its second one updates the draft: no create), then E, alone
        # of its run.
        self.assertEqual(sizes, [2, 1, 1])
        for uid, number, total in (
            ("inv-a", "INV/A", 10.0),
            ("inv-b", "INV/B", 20.0),
            ("inv-d", "INV/D", 45.0),
            ("inv-e", "INV/E", 50.0),
        ):
            bill = self._bill(uid)
            self.assertEqual(len(bill), 1, uid)
            self.assertEqual(bill.ref, number)
            self.assertEqual(bill.amount_untaxed, total)
            self.assertEqual(bill.k2k_approval_state, "pending")
            self.assertEqual(bill.message_main_attachment_id.res_id, bill.id)
            self.assertEqual(bill.message_main_attachment_id.name, f"{number}.pdf")
            self.assertIn(
                f"invoice {number}", " ".join(bill.message_ids.mapped("body"))
            )
        self.assertEqual(self._bill("inv-d").k2k_revision, 2)

    @mute_logger("odoo.addons.k2k_network.models.k2k_inbox")
    def test_a_bad_invoice_leaves_the_others_applied(self):
        outcomes, sizes = self._post(
            [
                self._invoice("inv-a", "INV/A", 1.0),
                self._invoice("inv-c", "INV/C", 3.0, currency="ZZZ"),
                self._invoice("inv-b", "INV/B", 2.0),
            ]
        )
        self.assertEqual(
            [o["outcome"] for o in outcomes], ["applied", "refused", "applied"]
        )
        self.assertIn("Unknown currency ZZZ", outcomes[1]["reason"])
        # Together failed on C: undone, then each alone.
        self.assertEqual(sizes, [1, 1])
        self.assertEqual(len(self._bill("inv-a")), 1)
        self.assertEqual(len(self._bill("inv-b")), 1)
        self.assertFalse(self._bill("inv-c"))

    def test_a_batch_sent_again_makes_no_second_bill(self):
        envelopes = [self._invoice(f"inv-{i}", f"INV/{i}", 1.0 + i) for i in range(3)]
        self._post(envelopes)
        outcomes, sizes = self._post(envelopes)
        self.assertEqual(sizes, [], "known invoices make no bill")
        self.assertEqual([o["outcome"] for o in outcomes], ["applied"] * 3, outcomes)
        for i in range(3):
            self.assertEqual(len(self._bill(f"inv-{i}")), 1)


@tagged("post_install", "-at_install")
class TestK2KLocalBills(K2KFlowCommon):
    def _process_counting_bills(self):
        """Run the scheduled action; return how many bills of the buyer each
        ``create`` made."""
        Move = type(self.env["account.move"])
        create = Move.create
        sizes = []

        def counted(records, vals_list):
            if isinstance(vals_list, list) and records.env.company == self.buyer:
                sizes.append(len(vals_list))
            return create(records, vals_list)

        with patch.object(Move, "create", counted):
            self._process()
        return sizes

    def test_a_run_makes_the_bills_of_one_buyer_together(self):
        orders = self.env["purchase.order"]
        for qty in (10, 20, 30):
            orders |= self._buyer_po([(self.buyer_rose, qty, 0.80)])
        self._validate_pickings(orders.picking_ids)
        invoices = self.env["account.move"]
        for po in orders:
            invoices |= self._vendor_invoice(po.k2k_sale_order_id, post=False)
        invoices.action_post()
        sizes = self._process_counting_bills()
        self.assertEqual(sizes, [3], "the three bills in one create")
        for po, invoice in zip(orders, invoices, strict=True):
            bill = self._bill_of(invoice)
            self.assertEqual(len(bill), 1)
            self.assertEqual(bill.ref, invoice.name)
            self.assertEqual(bill.invoice_line_ids.purchase_line_id, po.order_line)
            self.assertEqual(invoice.k2k_message_ids.state, "applied")
            self.assertIn(invoice.name, " ".join(po.message_ids.mapped("body")))

    def test_messages_before_a_run_of_invoices_are_applied_before_it(self):
        orders = self.env["purchase.order"]
        for qty in (100, 40):
            orders |= self._buyer_po([(self.buyer_rose, qty, 0.80)])
        sale_orders = orders.k2k_sale_order_id.with_company(self.vendor)
        sale_orders.action_confirm()
        self._process()
        # The vendor cuts the first order, then delivers and invoices both:
        # its answer is queued before the invoices, and must be applied
        # before them (a billed line no longer follows a cut).
        sale_orders[0].order_line.product_uom_qty = 60
        invoices = self.env["account.move"]
        for sale_order in sale_orders:
            invoices |= self._vendor_invoice(sale_order, post=False)
        invoices.action_post()
        sizes = self._process_counting_bills()
        self.assertEqual(sizes, [2], "the two invoices together")
        self.assertEqual(orders[0].order_line.product_qty, 60, "the cut followed")
        self.assertFalse(orders[0].k2k_vendor_attention)
        self.assertEqual(
            self._bill_of(invoices[0]).invoice_line_ids.purchase_line_id,
            orders[0].order_line,
        )
