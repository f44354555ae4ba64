# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Every value a partner sends is checked on receipt: type, range,
existence. A refused message creates nothing."""

import base64

from odoo.exceptions import UserError
from odoo.tests import tagged

from .. import wire
from .common import apply_envelope
from .common_flow import K2KFlowCommon


@tagged("post_install", "-at_install")
class TestK2KValues(K2KFlowCommon):
    def _invoice_envelope(self, line=None, attachments=(), **payload):
        po = self._buyer_po([(self.buyer_rose, 10, 0.80)])
        values = {
            "move_type": "out_invoice",
            "invoice_number": "INV/VAL/1",
            "invoice_date": "2026-11-02",
            "invoice_date_due": "2026-12-02",
            "currency": self.buyer.currency_id.name,
            "lines": [
                {
                    "purchase_line_ref": po.order_line.k2k_line_uid,
                    "name": "Roses",
                    "quantity": 10,
                    "price_unit": 0.8,
                    "discount": 0,
                    **(line or {}),
                }
            ],
            **payload,
        }
        return wire.build_envelope("invoice", wire.new_uid(), 1, values, attachments)

    def _receive(self, envelope):
        bills = self.env["account.move"].search_count([])
        try:
            return apply_envelope(self.connection.sudo(), envelope)
        finally:
            self.assertEqual(self.env["account.move"].search_count([]), bills)

    def test_out_of_range_and_non_finite_values_are_refused(self):
        for line in (
            {"quantity": float("nan")},
            {"quantity": float("inf")},
            {"quantity": -1},
            {"quantity": "10"},
            {"quantity": True},
            {"price_unit": float("-inf")},
            {"discount": 150},
            {"discount": -5},
            {"name": ""},
            {"purchase_line_ref": 7},
        ):
            with (
                self.subTest(line=line),
                self.assertRaisesRegex(wire.EnvelopeError, "line 1"),
            ):
                self._receive(self._invoice_envelope(line))
        for payload in (
            {"invoice_date": "2026-02-30"},
            {"invoice_date_due": "tomorrow"},
            {"currency": "usd"},
            {"move_type": "in_invoice"},
            {"amount_untaxed": float("nan")},
            {"lines": "all of them"},
        ):
            with self.subTest(payload=payload), self.assertRaises(wire.EnvelopeError):
                self._receive(self._invoice_envelope(**payload))

    def test_json_constants_nan_and_infinity_are_refused(self):
        for text in ('{"quantity": NaN}', '{"quantity": Infinity}', "[-Infinity]"):
            with self.subTest(text=text), self.assertRaises(ValueError):
                wire.loads(text)
        self.assertEqual(wire.loads('{"quantity": 1.5}'), {"quantity": 1.5})

    def test_archived_currency_is_refused_not_switched_on(self):
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", "JPY")])
        )
        currency.active = False
        with self.assertRaisesRegex(UserError, "JPY is not active here"):
            self._receive(self._invoice_envelope(currency="JPY"))
        self.assertFalse(currency.active)

    def test_only_a_pdf_travels(self):
        html = {
            "name": "invoice.pdf",
            "mimetype": "application/pdf",
            "datas": base64.b64encode(b"<html><script>x</script></html>").decode(),
        }
        for attachment in (
            html,
            dict(html, mimetype="text/html"),
            dict(html, datas="not base64 at all!"),
        ):
            with (
                self.subTest(attachment=attachment),
                self.assertRaisesRegex(wire.EnvelopeError, "attachment"),
            ):
                self._receive(self._invoice_envelope(attachments=[attachment]))
        pdf = dict(html, datas=base64.b64encode(b"%PDF-1.4\n%%EOF").decode())
        outcome = self._receive_creating(self._invoice_envelope(attachments=[pdf]))
        self.assertEqual(outcome["record"].message_main_attachment_id.raw[:4], b"%PDF")

    def _receive_creating(self, envelope):
        return apply_envelope(self.connection.sudo(), envelope)

    def test_a_vendor_total_unlike_the_bill_is_flagged(self):
        connection = self.connection.sudo()
        matching = apply_envelope(
            connection, self._invoice_envelope(amount_untaxed=8.0)
        )
        self.assertFalse(
            matching["record"].message_ids.filtered(
                lambda m: "untaxed total" in (m.body or "")
            )
        )
        other = apply_envelope(connection, self._invoice_envelope(amount_untaxed=9.5))
        bill = other["record"]
        self.assertEqual(bill.amount_untaxed, 8.0, "the bill keeps the vendor's lines")
        warning = bill.message_ids.filtered(lambda m: "untaxed total" in (m.body or ""))
        self.assertEqual(len(warning), 1)
        self.assertIn("9.5", warning.body)
