# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The buyer's bill is the vendor's invoice, taxes included: the buyer's
own taxes where they give the vendor's, a flag where they do not; lines
without a purchase line get the buyer's product, account and tax; the
vendor sees what the buyer paid of its total."""

from odoo import Command
from odoo.tests import tagged

from .. import wire
from .common import apply_envelope
from .common_flow import K2KFlowCommon


@tagged("post_install", "-at_install")
class TestK2KTaxes(K2KFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The vendor sells at 21 %, the buyer's purchase tax is 10 %: no
        # 21 % purchase tax in the buyer's setup (the test chart has 15 %).
        cls.vendor_tax_21 = cls.company_data["default_tax_sale"].copy(
            {"name": "VAT 21% (vendor)", "amount": 21.0}
        )
        cls.buyer_tax_10 = cls.buyer_data["default_tax_purchase"].copy(
            {"name": "VAT 10% purchases (buyer)", "amount": 10.0}
        )
        for product in cls.vendor_rose | cls.vendor_tulip:
            product.taxes_id = [Command.set(cls.vendor_tax_21.ids)]
        for product in cls.buyer_rose | cls.buyer_tulip:
            product.supplier_taxes_id = [Command.set(cls.buyer_tax_10.ids)]
        # A charge the vendor adds to its invoice, never on the K2K order.
        cls.vendor_freight = cls.env["product.product"].create(
            {
                "name": "Air freight",
                "default_code": "V-FREIGHT",
                "company_id": cls.vendor.id,
                "type": "service",
                "list_price": 25.0,
                "taxes_id": [Command.set(cls.vendor_tax_21.ids)],
            }
        )
        cls.vendor_vase = cls.env["product.product"].create(
            {
                "name": "Glass vase",
                "default_code": "V-VASE",
                "company_id": cls.vendor.id,
                "type": "consu",
                "list_price": 4.0,
                "taxes_id": [Command.set(cls.vendor_tax_21.ids)],
            }
        )

    def _buyer_tax_21(self):
        return self.buyer_data["default_tax_purchase"].copy(
            {"name": "VAT 21% purchases (buyer)", "amount": 21.0}
        )

    def _invoice_with_extra_line(self, product, price):
        """An invoice of a K2K order of 100 roses at 0.80, with a line the
        order never had."""
        po = self._buyer_po([(self.buyer_rose, 100, 0.80)])
        self._validate_pickings(po.picking_ids)
        invoice = self._vendor_invoice(po.k2k_sale_order_id, post=False)
        invoice.write(
            {
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": product.id, "quantity": 1, "price_unit": price}
                    )
                ]
            }
        )
        invoice.action_post()
        self._process()
        return invoice, self._bill_of(invoice)

    def _pay(self, bill, amount=None):
        self.env["account.payment.register"].with_company(self.buyer).with_context(
            active_model="account.move", active_ids=bill.ids
        ).create({"amount": amount} if amount else {})._create_payments()

    # -- taxes -----------------------------------------------------------------

    def test_other_tax_at_buyer_is_flagged(self):
        po, invoice, bill = self._full_flow([(self.buyer_rose, 100, 0.80)])
        self.assertEqual(invoice.amount_total, 96.80)
        payload = invoice.k2k_message_ids.payload
        self.assertEqual(payload["amount_total"], 96.80)
        self.assertEqual(payload["amount_tax"], 16.80)
        self.assertEqual(
            payload["lines"][0]["taxes"],
            [{"amount_type": "percent", "amount": 21.0, "price_include": False}],
        )
        # The buyer has no 21 % purchase tax: its own 10 % stays, flagged.
        self.assertEqual(bill.amount_untaxed, invoice.amount_untaxed)
        self.assertEqual(bill.invoice_line_ids.tax_ids, self.buyer_tax_10)
        self.assertEqual(bill.amount_total, 88.0)
        self.assertTrue(bill.k2k_tax_mismatch)
        self.assertIn(
            bill,
            self.env["account.move"].search([("k2k_tax_mismatch", "=", True)]),
        )
        note = bill.message_ids.filtered(
            lambda m: "96.80" in (m.body or "") and "88.00" in (m.body or "")
        )
        self.assertEqual(len(note), 1, "one note gives both totals")
        # Procurement corrects the tax by hand: the flag follows.
        bill.invoice_line_ids.tax_ids = [Command.set(self._buyer_tax_21().ids)]
        self.assertEqual(bill.amount_total, invoice.amount_total)
        self.assertFalse(bill.k2k_tax_mismatch)
        self.assertEqual(po.invoice_ids, bill)

    def test_a_line_the_vendor_charges_no_tax_on_keeps_the_buyers(self):
        # The vendor leaves the tax off its invoice line: the buyer's own
        # 10 % stays (dropping it would hide the input tax), flagged.
        po = self._buyer_po([(self.buyer_rose, 100, 0.80)])
        self._validate_pickings(po.picking_ids)
        invoice = self._vendor_invoice(po.k2k_sale_order_id, post=False)
        invoice.invoice_line_ids.tax_ids = False
        invoice.action_post()
        self._process()
        bill = self._bill_of(invoice)
        self.assertEqual(invoice.amount_total, 80.0)
        self.assertEqual(bill.invoice_line_ids.tax_ids, self.buyer_tax_10)
        self.assertEqual(bill.amount_total, 88.0)
        self.assertTrue(bill.k2k_tax_mismatch)

    def test_buyer_tax_of_the_same_rate_is_chosen(self):
        tax_21 = self._buyer_tax_21()
        _po, invoice, bill = self._full_flow(
            [(self.buyer_rose, 100, 0.80), (self.buyer_tulip, 50, 0.50)]
        )
        self.assertEqual(bill.invoice_line_ids.tax_ids, tax_21)
        self.assertEqual(bill.amount_total, invoice.amount_total)
        self.assertEqual(bill.amount_tax, invoice.amount_tax)
        self.assertFalse(bill.k2k_tax_mismatch)

    def _vendor_fiscal_position(self, name, tax):
        """A fiscal position of the buyer, for this vendor, that maps its
        10 % purchase tax to ``tax``."""
        fiscal_position = self.env["account.fiscal.position"].create(
            {
                "name": name,
                "company_id": self.buyer.id,
                "tax_ids": [
                    Command.create(
                        {"tax_src_id": self.buyer_tax_10.id, "tax_dest_id": tax.id}
                    )
                ],
            }
        )
        partner = self.vendor.partner_id.with_company(self.buyer)
        partner.property_account_position_id = fiscal_position
        return fiscal_position

    def test_fiscal_position_tax_is_kept(self):
        # The buyer's fiscal position for this vendor maps its 10 % to a
        # 21 % of its own: the purchase order's mapped tax is the bill's.
        tax_21 = self._buyer_tax_21()
        fiscal_position = self._vendor_fiscal_position("Imports", tax_21)
        _po, invoice, bill = self._full_flow([(self.buyer_rose, 100, 0.80)])
        self.assertEqual(bill.fiscal_position_id, fiscal_position)
        self.assertEqual(bill.invoice_line_ids.tax_ids, tax_21)
        self.assertEqual(bill.amount_total, invoice.amount_total)
        self.assertFalse(bill.k2k_tax_mismatch)

    def test_reverse_charge_that_gives_the_vendors_total_is_kept(self):
        # The vendor charges no tax (an export); the buyer's fiscal position
        # maps its tax to a reverse charge of 21 % (+100 % and -100 %): it
        # gives the vendor's total, and stays.
        vendor_exempt = self.vendor_tax_21.copy({"name": "Export 0%", "amount": 0.0})
        self.vendor_rose.taxes_id = [Command.set(vendor_exempt.ids)]
        self.buyer_data["default_tax_purchase"].copy(
            {"name": "Exempt purchases 0%", "amount": 0.0}
        )
        reverse = self._buyer_tax_21()
        self_assessed = {
            "repartition_type": "tax",
            "factor_percent": -100.0,
            "account_id": self.buyer_data["default_account_tax_sale"][:1].id,
        }
        reverse.write(
            {
                "name": "Reverse charge 21%",
                "invoice_repartition_line_ids": [Command.create(self_assessed)],
                "refund_repartition_line_ids": [Command.create(self_assessed)],
            }
        )
        self._vendor_fiscal_position("Intra-community", reverse)
        _po, invoice, bill = self._full_flow([(self.buyer_rose, 100, 0.80)])
        self.assertEqual(invoice.amount_total, 80.0)
        self.assertEqual(bill.invoice_line_ids.tax_ids, reverse)
        self.assertEqual(bill.amount_total, 80.0)
        self.assertFalse(bill.k2k_tax_mismatch)

    def test_vendor_correction_clears_the_flag(self):
        _po, invoice, bill = self._full_flow([(self.buyer_rose, 100, 0.80)])
        self.assertTrue(bill.k2k_tax_mismatch)
        vendor_tax_10 = self.vendor_tax_21.copy({"name": "VAT 10%", "amount": 10.0})
        invoice.button_draft()
        invoice.invoice_line_ids.tax_ids = [Command.set(vendor_tax_10.ids)]
        invoice.action_post()
        self._process()
        self.assertTrue(bill.k2k_updated_by_vendor)
        self.assertEqual(bill.k2k_vendor_amount_total, 88.0)
        self.assertEqual(bill.amount_total, 88.0)
        self.assertFalse(bill.k2k_tax_mismatch)

    def test_an_older_vendors_invoice_keeps_the_buyers_taxes(self):
        # A vendor on an older version sends no taxes nor taxed totals: the
        # bill is made as before, with nothing to compare.
        po = self._buyer_po([(self.buyer_rose, 10, 0.80)])
        envelope = self._envelope(
            {"purchase_line_ref": po.order_line.k2k_line_uid},
            currency=self.buyer.currency_id.name,
            amount_untaxed=8.0,
        )
        bill = apply_envelope(self.connection.sudo(), envelope)["record"]
        self.assertEqual(bill.invoice_line_ids.tax_ids, self.buyer_tax_10)
        self.assertEqual(bill.amount_total, 8.8)
        self.assertFalse(bill.k2k_tax_mismatch)
        self.assertFalse(bill.k2k_product_missing)

    # -- lines without a purchase line -------------------------------------------

    def test_freight_line_gets_the_buyers_product_account_and_tax(self):
        tax_21 = self._buyer_tax_21()
        expense = self.buyer_data["default_account_expense"].copy(
            {"code": "612100", "name": "Freight in"}
        )
        # Company-dependent accounts: set in the buyer's company.
        buyer_freight = (
            self.env["product.product"]
            .with_company(self.buyer)
            .create(
                {
                    "name": "Inbound transport",
                    "company_id": self.buyer.id,
                    "type": "service",
                    "purchase_ok": True,
                    "supplier_taxes_id": [Command.set(tax_21.ids)],
                    "property_account_expense_id": expense.id,
                }
            )
        )
        self.env["product.supplierinfo"].create(
            {
                "partner_id": self.vendor.partner_id.id,
                "product_tmpl_id": buyer_freight.product_tmpl_id.id,
                "product_code": "V-FREIGHT",
                "company_id": self.buyer.id,
            }
        )
        invoice, bill = self._invoice_with_extra_line(self.vendor_freight, 25.0)
        freight = bill.invoice_line_ids.filtered(lambda aml: not aml.purchase_line_id)
        self.assertEqual(len(freight), 1)
        self.assertRecordValues(
            freight,
            [
                {
                    "product_id": buyer_freight.id,
                    "account_id": expense.id,
                    "price_unit": 25.0,
                    "quantity": 1.0,
                }
            ],
        )
        self.assertEqual(freight.tax_ids, tax_21)
        self.assertEqual(bill.amount_total, invoice.amount_total)
        self.assertFalse(bill.k2k_tax_mismatch)
        self.assertFalse(bill.k2k_product_missing)

    def test_line_without_a_buyer_product_is_flagged(self):
        self._buyer_tax_21()
        invoice, bill = self._invoice_with_extra_line(self.vendor_vase, 4.0)
        vase = bill.invoice_line_ids.filtered(lambda aml: not aml.purchase_line_id)
        self.assertEqual(len(vase), 1)
        self.assertFalse(vase.product_id)
        self.assertTrue(bill.k2k_product_missing)
        self.assertIn(
            bill,
            self.env["account.move"].search([("k2k_product_missing", "=", True)]),
        )
        # Its tax is the vendor's rate all the same: the totals agree.
        self.assertEqual(bill.amount_total, invoice.amount_total)
        # A person gives the line a product of the buyer: the flag is gone.
        product = self.env["product.product"].create(
            {"name": "Vase", "company_id": self.buyer.id, "type": "consu"}
        )
        vase.product_id = product
        self.assertFalse(bill.k2k_product_missing)

    # -- what the buyer paid -----------------------------------------------------

    def test_short_payment_is_shown_at_the_vendor(self):
        _po, invoice, bill = self._full_flow([(self.buyer_rose, 100, 0.80)])
        self.assertEqual(bill.amount_total, 88.0)
        bill.action_k2k_approve()
        bill.action_post()
        self._pay(bill)
        self.assertEqual(bill.payment_state, "paid")
        self._process()
        status = self.env["k2k.message"].search(
            [("message_type", "=", "bill_status")], order="id desc", limit=1
        )
        self.assertEqual(status.payload["amount_paid"], 88.0)
        self.assertEqual(status.payload["amount_residual"], 0.0)
        # The vendor's 96.80 was not paid: not "paid" at the vendor.
        self.assertEqual(invoice.k2k_buyer_status, "short_paid")
        self.assertEqual(invoice.k2k_buyer_amount_paid, 88.0)
        self.assertEqual(invoice.amount_residual, 96.80)
        self.assertNotIn(
            invoice,
            self.env["account.move"].search([("k2k_buyer_status", "=", "paid")]),
        )

    def test_a_payment_with_a_write_off_is_short_at_the_vendor(self):
        # The bill matches the vendor's 96.80; the buyer pays 90.00 and
        # marks it fully paid (6.80 written off): paid for the buyer, not
        # for the vendor.
        self._buyer_tax_21()
        _po, invoice, bill = self._full_flow([(self.buyer_rose, 100, 0.80)])
        self.assertEqual(bill.amount_total, invoice.amount_total)
        bill.action_k2k_approve()
        bill.action_post()
        self.env["account.payment.register"].with_company(self.buyer).with_context(
            active_model="account.move", active_ids=bill.ids
        ).create(
            {
                "amount": 90.0,
                "payment_difference_handling": "reconcile",
                "writeoff_account_id": self.buyer_data["default_account_expense"].id,
                "writeoff_label": "Discount taken",
            }
        )._create_payments()
        self.assertEqual(bill.payment_state, "paid")
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "short_paid")
        self.assertAlmostEqual(invoice.k2k_buyer_amount_paid, 90.0)

    def test_full_payment_is_paid_at_the_vendor(self):
        self._buyer_tax_21()
        _po, invoice, bill = self._full_flow([(self.buyer_rose, 100, 0.80)])
        bill.action_k2k_approve()
        bill.action_post()
        self._pay(bill, 40.0)
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "partial")
        self.assertEqual(invoice.k2k_buyer_amount_paid, 40.0)
        self._pay(bill)
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "paid")
        self.assertEqual(invoice.k2k_buyer_amount_paid, invoice.amount_total)

    # -- the wire ----------------------------------------------------------------

    def _envelope(self, line=None, msg_type="invoice", **payload):
        if msg_type == "bill_status":
            values = {"invoice_uid": wire.new_uid(), "status": "paid", **payload}
        else:
            values = {
                "move_type": "out_invoice",
                "invoice_number": "INV/TAX/1",
                "invoice_date": "2026-11-02",
                "invoice_date_due": "2026-12-02",
                "currency": "USD",
                "lines": [
                    {
                        "name": "Roses",
                        "quantity": 10,
                        "price_unit": 0.8,
                        "discount": 0,
                        **(line or {}),
                    }
                ],
                **payload,
            }
        return wire.build_envelope(msg_type, wire.new_uid(), 1, values, [])

    def test_taxed_values_are_checked(self):
        # An older partner's payload, without them, is still taken.
        wire.check_payload(self._envelope())
        wire.check_payload(
            self._envelope(
                {
                    "vendor_code": "V-ROSE-50",
                    "price_total": 9.68,
                    "taxes": [
                        {"amount_type": "percent", "amount": 21, "price_include": False}
                    ],
                },
                amount_tax=1.68,
                amount_total=9.68,
            )
        )
        for line in (
            {"taxes": "21%"},
            {"taxes": [{"amount_type": "python", "amount": 21, "price_include": 0}]},
            {"taxes": [{"amount_type": "percent", "amount": float("nan")}]},
            {"taxes": [{"amount_type": "percent", "amount": 21, "price_include": 1}]},
            {"price_total": "9.68"},
            {"vendor_code": 12},
        ):
            with self.subTest(line=line), self.assertRaises(wire.EnvelopeError):
                wire.check_payload(self._envelope(line))
        for payload in ({"amount_total": float("inf")}, {"amount_tax": "1.68"}):
            with self.subTest(payload=payload), self.assertRaises(wire.EnvelopeError):
                wire.check_payload(self._envelope(**payload))
        wire.check_payload(self._envelope(msg_type="bill_status"))
        wire.check_payload(
            self._envelope(msg_type="bill_status", amount_paid=88.0, amount_residual=0)
        )
        for payload in ({"amount_paid": -1}, {"amount_residual": "0"}):
            with self.subTest(payload=payload), self.assertRaises(wire.EnvelopeError):
                wire.check_payload(self._envelope(msg_type="bill_status", **payload))
