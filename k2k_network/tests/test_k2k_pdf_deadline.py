# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A PDF run that never ends: the reports load their styles from a server
that accepts and never answers. The invoice's message waits for a later
attempt with the reason, the other messages of the run go, and nothing
waits longer than the deadline. And one that ends having written nothing."""

import os
import shutil
import socket
import stat
import tempfile
import threading
import time
from unittest.mock import patch

import psutil

from odoo.tests import tagged

from .common_flow import K2KFlowCommon


class SilentServer:
    """Accepts connections and never answers, until closed (at the latest
    after ``give_up`` seconds, so that a run without a deadline ends too)."""

    def __init__(self, give_up=90):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.held = []
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(give_up,), daemon=True)
        self.thread.start()

    def _serve(self, give_up):
        end = time.monotonic() + give_up
        while not self.closed.is_set() and time.monotonic() < end:
            try:
                self.held.append(self.socket.accept()[0])
            except TimeoutError:
                continue
        for connection in self.held:
            connection.close()
        self.socket.close()

    def close(self):
        self.closed.set()
        self.thread.join()


@tagged("post_install", "-at_install")
class TestK2KPdfDeadline(K2KFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.params = cls.env["ir.config_parameter"].sudo()
        cls.params.set_param("k2k_network.pdf_timeout", 4)

    def _wkhtmltopdf_runs(self):
        return [
            process
            for process in psutil.Process().children(recursive=True)
            if "wkhtmltopdf" in process.name()
        ]

    def test_a_hung_pdf_holds_only_its_messages(self):
        # An agreed price below the vendor's list price (0.80).
        po = self._buyer_po([(self.buyer_rose, 60, 0.72)])
        sale = po.k2k_sale_order_id.with_company(self.vendor)
        sale.action_confirm()
        invoice = self._vendor_invoice(sale)
        server = SilentServer()
        self.addCleanup(server.close)
        self.params.set_param("report.url", server.url)

        start = time.monotonic()
        self._process(pdf=True)
        elapsed = time.monotonic() - start

        self.assertLess(elapsed, 40, "the run waited no longer than its deadline")
        self.assertTrue(server.held, "the renderer did ask the silent server")
        self.assertFalse(self._wkhtmltopdf_runs(), "the stuck run was stopped")
        message = invoice.k2k_message_ids
        self.assertEqual(message.state, "queued")
        self.assertTrue(message.error)
        self.assertTrue(message.next_attempt_date)
        self.assertFalse(message.attachment_id)
        self.assertFalse(self._bill_of(invoice))
        # The other messages of the run went: the vendor's answer and its
        # shipment notice reached the buyer's purchase order.
        others = self.env["k2k.message"].search(
            [("connection_id", "=", self.connection.id), ("id", "!=", message.id)]
        )
        self.assertLessEqual(
            {"order_answer", "shipment"}, set(others.mapped("message_type"))
        )
        self.assertEqual(set(others.mapped("state")), {"applied"})
        self.assertEqual(po.k2k_vendor_state, "confirmed")
        # Not due before its next attempt: the next run leaves it alone.
        self._process(pdf=True)
        self.assertEqual(message.state, "queued")

        # The server answers again: tried now, the invoice goes.
        server.close()
        self.params.set_param("report.url", False)
        # A real rendering, given the time one takes on a busy machine.
        self.params.set_param("k2k_network.pdf_timeout", 60)
        message.action_retry()
        self._process(pdf=True)
        self.assertEqual(message.state, "applied")
        self.assertEqual(message.attachment_id.mimetype, "application/pdf")
        self.assertEqual(self._bill_of(invoice).amount_untaxed, invoice.amount_untaxed)

    def test_a_pdf_run_that_writes_nothing_sends_no_empty_file(self):
        """wkhtmltopdf ends "with code 1" (Odoo accepts it: a resource it
        could not load) and has written nothing: the invoices wait for a
        later attempt, none reaches the buyer with an empty PDF."""
        invoices = self.env["account.move"]
        for qty in (60, 70):
            po = self._buyer_po([(self.buyer_rose, qty, 0.72)])
            invoices |= self._vendor_invoice(po.k2k_sale_order_id)
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder)
        empty_renderer = os.path.join(folder, "wkhtmltopdf")
        with open(empty_renderer, "w", encoding="utf-8") as script:
            script.write(
                "#!/bin/sh\n"
                "echo 'Exit with code 1 due to network error: "
                "ConnectionRefusedError' >&2\n"
                "exit 1\n"
            )
        os.chmod(empty_renderer, stat.S_IRWXU)
        with patch(
            "odoo.addons.base.models.ir_actions_report._get_wkhtmltopdf_bin",
            return_value=empty_renderer,
        ):
            self._process(pdf=True)
        messages = invoices.k2k_message_ids
        self.assertEqual(len(messages), 2)
        for message in messages:
            self.assertEqual(message.state, "queued")
            self.assertEqual(message.attempt_count, 1)
            self.assertIn("wkhtmltopdf ended without a PDF", message.error)
            self.assertTrue(message.next_attempt_date)
            self.assertTrue(
                message.state_detail.startswith("PDF not made, next attempt")
            )
            self.assertFalse(message.attachment_id)
        self.assertFalse(invoices.invoice_pdf_report_id, "no empty PDF kept either")
        for invoice in invoices:
            self.assertFalse(self._bill_of(invoice))

        # With a renderer that works, the next attempt sends the real ones
        # (given the time one takes on a busy machine).
        self.params.set_param("k2k_network.pdf_timeout", 60)
        messages.action_retry()
        self._process(pdf=True)
        self.assertEqual(set(messages.mapped("state")), {"applied"})
        for invoice in invoices:
            pdf = self._bill_of(invoice).message_main_attachment_id
            self.assertTrue(pdf.raw.startswith(b"%PDF"))
