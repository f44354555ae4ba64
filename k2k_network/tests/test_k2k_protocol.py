# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the addon sends is what the protocol's golden files show
(``golden_v2``, checked without a database in
``tests_integration/test_protocol_golden.py``): the same keys in each
envelope and payload, and no line key they do not show, for each message
type an ordinary day makes."""

import json
from pathlib import Path

from odoo.tests import tagged

from .. import wire
from .common_flow import K2KFlowCommon

GOLDEN = Path(__file__).parent / "golden_v2"


def _golden_envelope(message_type):
    return json.loads((GOLDEN / f"{message_type}.json").read_text())["envelope"]


@tagged("post_install", "-at_install")
class TestK2KProtocol(K2KFlowCommon):
    def _assert_like_golden(self, message):
        envelope = message._k2k_get_envelope()
        golden = _golden_envelope(message.message_type)
        where = f"{message.message_type} message"
        self.assertEqual(set(envelope), set(golden), where)
        payload, shown = envelope["payload"], golden["payload"]
        self.assertEqual(set(payload), set(shown), where)
        for line in payload.get("lines") or []:
            # A key a line may leave out (a down payment's mark) is shown.
            self.assertLessEqual(
                set(line), set(shown["lines"][0]), f"a line of {where}"
            )
        # What the golden file shows with a file (an invoice) travels with one.
        self.assertEqual(bool(envelope["attachments"]), bool(golden["attachments"]))
        for attachment in envelope["attachments"]:
            self.assertEqual(set(attachment), set(golden["attachments"][0]), where)

    def test_an_ordinary_day_sends_what_the_golden_files_show(self):
        cancelled = self._buyer_po([(self.buyer_tulip, 5, 0.50)])
        cancelled.button_cancel()
        _po, invoice, bill = self._full_flow(pdf=True)
        bill.action_k2k_approve()
        invoice.button_draft()
        invoice.button_cancel()
        # A message's payload is built when it goes: send all there is (the
        # cancellation makes a last bill status at the buyer).
        for _round in range(3):
            self._process()
        messages = self.env["k2k.message"].search(
            [("connection_id", "=", self.connection.id)]
        )
        self.assertNotIn("queued", messages.mapped("state"))
        for message in messages:
            self._assert_like_golden(message)
        self.assertGreaterEqual(
            set(messages.mapped("message_type")),
            {
                "order",
                "order_cancel",
                "order_answer",
                "shipment",
                "invoice",
                "invoice_cancel",
                "bill_status",
            },
        )

    def test_every_message_type_of_the_protocol_has_one_adapter(self):
        # The adapters declare what they carry; the router follows, and the
        # outbox can log each type under a name.
        adapters = self.env["k2k.document"]._k2k_get_adapters()
        self.assertEqual(set(adapters), set(wire.MESSAGE_TYPES))
        declared = [
            message_type
            for name in set(adapters.values())
            for message_type in self.env[name]._k2k_get_message_types()
        ]
        self.assertEqual(len(declared), len(set(declared)), "one adapter per type")
        field = self.env["k2k.message"]._fields["message_type"]
        labels = dict(field._description_selection(self.env))
        self.assertEqual(list(labels), list(wire.MESSAGE_TYPES))
        self.assertEqual(len(set(labels.values())), len(labels), "a name each")
        for message_type, name in adapters.items():
            adapter = self.env["k2k.message"]._k2k_get_adapter(message_type)
            self.assertEqual(adapter._name, name)
