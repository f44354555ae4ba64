# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.tests import tagged

from .. import wire_values
from .common_flow import K2KFlowCommon


@tagged("post_install", "-at_install")
class TestK2KDownPayments(K2KFlowCommon):
    """Down payments as Odoo makes them at the vendor (the sale order's
    "Down payment" invoice, then the final invoice that deducts it) reach the
    buyer as Odoo's own purchase down payments: a down-payment line on the
    purchase order, billed once, deducted by the final bill."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The buyer's own purchase tax (another record, another name than the
        # vendor's sales tax, the same rate: the totals must agree).
        cls.buyer_tax = cls.buyer_data["default_tax_purchase"].copy(
            {"name": "Buyer purchase VAT 15%", "amount": 15.0}
        )
        (cls.buyer_rose | cls.buyer_tulip).supplier_taxes_id = [
            Command.set(cls.buyer_tax.ids)
        ]
        # The vendor sells to this buyer at the agreed prices.
        cls._k2k_agree_prices({cls.vendor_rose: 0.75, cls.vendor_tulip: 0.40})

    def _down_payment(self, sale_order, method="percentage", amount=30.0):
        """The vendor's "Create Invoice" wizard, as a salesperson uses it."""
        sale_order = sale_order.with_company(self.vendor)
        if sale_order.state in ("draft", "sent"):
            sale_order.action_confirm()
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_company(self.vendor)
            .with_context(active_model="sale.order", active_ids=sale_order.ids)
            .create(
                {
                    "advance_payment_method": method,
                    "amount": amount if method == "percentage" else 0.0,
                    "fixed_amount": amount if method == "fixed" else 0.0,
                }
            )
        )
        invoice = wizard._create_invoices(sale_order)
        invoice.action_post()
        return invoice

    def _final_invoice(self, sale_orders):
        sale_orders = sale_orders.with_company(self.vendor)
        sale_orders.filtered(lambda so: so.state in ("draft", "sent")).action_confirm()
        self._validate_pickings(sale_orders.picking_ids)
        invoice = sale_orders._create_invoices(final=True)
        invoice.action_post()
        return invoice

    def test_down_payment_then_final_invoice(self):
        # Agreed prices below the vendor's list prices (0.80 and 0.50).
        po = self._buyer_po(
            [(self.buyer_rose, 100, 0.75), (self.buyer_tulip, 50, 0.40)]
        )
        so = po.k2k_sale_order_id
        dp_invoice = self._down_payment(so)
        # 30 % of the untaxed 95.00
        self.assertAlmostEqual(dp_invoice.amount_untaxed, 28.50)
        self._process()
        dp_bill = self._bill_of(dp_invoice)
        self.assertEqual(len(dp_bill), 1)
        self.assertEqual(dp_invoice.k2k_sync_state, "applied")

        # The purchase order gets its down payment as Odoo's own would.
        po_dp_line = po.order_line.filtered(
            lambda line: line.is_downpayment and not line.display_type
        )
        self.assertEqual(len(po_dp_line), 1)
        self.assertTrue(
            po.order_line.filtered(
                lambda line: line.is_downpayment and line.display_type == "line_section"
            )
        )
        self.assertRecordValues(
            po_dp_line,
            [{"product_qty": 0.0, "price_unit": 28.50, "qty_invoiced": 1.0}],
        )
        self.assertEqual(po_dp_line.taxes_id, self.buyer_tax)
        dp_bill_line = dp_bill.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        )
        self.assertRecordValues(
            dp_bill_line,
            [
                {
                    "purchase_line_id": po_dp_line.id,
                    "is_downpayment": True,
                    "quantity": 1.0,
                    "price_unit": 28.50,
                }
            ],
        )
        self.assertEqual(dp_bill_line.tax_ids, self.buyer_tax)
        self.assertIn(po.name, dp_bill.invoice_origin)
        self.assertIn(dp_bill, po.invoice_ids)
        self.assertAlmostEqual(dp_bill.amount_total, dp_invoice.amount_total)
        # Nothing was received, and a down payment is never received; its
        # line has no product, as Odoo's own down payments, and is no line
        # "without a product" to look at.
        self.assertFalse(dp_bill.k2k_qty_mismatch)
        self.assertFalse(dp_bill.k2k_product_missing)
        self.assertFalse(dp_bill.k2k_tax_mismatch)

        # The goods come in, the vendor invoices the rest (deducting the
        # down payment, quantity -1).
        self._validate_pickings(po.picking_ids)
        final_invoice = self._final_invoice(so)
        deduction = final_invoice.invoice_line_ids.filtered("is_downpayment")
        self.assertEqual(deduction.quantity, -1.0)
        self._process()
        self.assertEqual(final_invoice.k2k_sync_state, "applied")
        final_bill = self._bill_of(final_invoice)
        self.assertEqual(len(final_bill), 1)
        bill_deduction = final_bill.invoice_line_ids.filtered("is_downpayment")
        self.assertRecordValues(
            bill_deduction,
            [
                {
                    "purchase_line_id": po_dp_line.id,
                    "quantity": -1.0,
                    "price_unit": 28.50,
                }
            ],
        )
        self.assertEqual(bill_deduction.tax_ids, self.buyer_tax)
        self.assertAlmostEqual(final_bill.amount_total, final_invoice.amount_total)
        self.assertAlmostEqual(final_bill.amount_untaxed, 95.00 - 28.50)
        # As Odoo's own flow leaves them: the down payment deducted, every
        # line billed, nothing left to bill.
        self.assertRecordValues(
            po_dp_line,
            [{"qty_invoiced": 0.0}],
        )
        self.assertEqual(po_dp_line.invoice_lines, dp_bill_line | bill_deduction)
        self.assertEqual(
            po.order_line.filtered(lambda line: not line.is_downpayment).mapped(
                "qty_invoiced"
            ),
            [100.0, 50.0],
        )
        self.assertEqual(po.invoice_status, "invoiced")
        self.assertEqual(po.invoice_ids, dp_bill | final_bill)
        self.assertFalse(final_bill.k2k_qty_mismatch)
        self.assertFalse(final_bill.k2k_amount_mismatch)
        self.assertFalse(final_bill.k2k_product_missing)
        self.assertFalse(final_bill.k2k_tax_mismatch)

    def test_fixed_down_payment(self):
        po = self._buyer_po([(self.buyer_rose, 100, 0.75)])
        dp_invoice = self._down_payment(po.k2k_sale_order_id, "fixed", 40.0)
        self._process()
        dp_bill = self._bill_of(dp_invoice)
        self.assertTrue(dp_bill.invoice_line_ids.purchase_line_id.is_downpayment)
        self.assertEqual(dp_bill.invoice_line_ids.purchase_line_id.order_id, po)
        self.assertAlmostEqual(dp_bill.amount_total, dp_invoice.amount_total)

    def test_invoice_of_two_orders(self):
        po1 = self._buyer_po([(self.buyer_rose, 100, 0.75)])
        po2 = self._buyer_po([(self.buyer_tulip, 50, 0.40)])
        orders = po1.k2k_sale_order_id | po2.k2k_sale_order_id
        dp_invoice = self._down_payment(po1.k2k_sale_order_id)
        self._process()
        self._validate_pickings(po1.picking_ids | po2.picking_ids)
        invoice = self._final_invoice(orders)
        self.assertEqual(len(invoice), 1)
        self._process()
        bill = self._bill_of(invoice)
        self.assertEqual(len(bill), 1)
        self.assertIn(po1.name, bill.invoice_origin)
        self.assertIn(po2.name, bill.invoice_origin)
        lines = bill.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        )
        self.assertEqual(
            lines.filtered(
                lambda line: line.product_id == self.buyer_rose
            ).purchase_order_id,
            po1,
        )
        self.assertEqual(
            lines.filtered(
                lambda line: line.product_id == self.buyer_tulip
            ).purchase_order_id,
            po2,
        )
        self.assertEqual(lines.filtered("is_downpayment").purchase_order_id, po1)
        self.assertEqual(po1.invoice_ids, self._bill_of(dp_invoice) | bill)
        self.assertEqual(po2.invoice_ids, bill)
        self.assertEqual((po1 | po2).mapped("invoice_status"), ["invoiced", "invoiced"])
        self.assertAlmostEqual(bill.amount_total, invoice.amount_total)

    def test_negative_quantity_only_for_down_payments(self):
        envelope = {
            "type": "invoice",
            "attachments": [],
            "payload": {
                "move_type": "out_invoice",
                "invoice_number": "INV/1",
                "invoice_date": "2026-01-01",
                "invoice_date_due": "2026-01-31",
                "currency": "USD",
                "lines": [
                    {
                        "purchase_line_ref": "a-line",
                        "name": "Roses",
                        "quantity": -1,
                        "price_unit": 1.0,
                        "discount": 0,
                    }
                ],
            },
        }
        with self.assertRaises(wire_values.EnvelopeError):
            wire_values.check_payload(envelope)
        envelope["payload"]["lines"][0].update(
            {"is_downpayment": True, "order_uid": "an-order"}
        )
        wire_values.check_payload(envelope)
        # A down payment names the order it is paid on, and its line.
        for wrong in (
            {"order_uid": False},
            {"purchase_line_ref": False},
            {"order_uid": 7},
            {"is_downpayment": "yes"},
        ):
            line = dict(envelope["payload"]["lines"][0], **wrong)
            with (
                self.subTest(wrong=wrong),
                self.assertRaises(wire_values.EnvelopeError),
            ):
                wire_values.check_payload(
                    dict(envelope, payload=dict(envelope["payload"], lines=[line]))
                )
