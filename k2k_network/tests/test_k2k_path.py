# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The README's drawing of one document's path stays true: every method it
names is one that an invoice passes through on its way to the bill, in the
file the drawing says."""

import os
import re
import sys
import threading
from pathlib import Path

from odoo.tests import tagged

from .. import http_client
from .common_flow import K2KFlowCommon

ADDON = Path(__file__).resolve().parent.parent
README = ADDON.parent / "README.md"


def _drawing():
    """The lines of the README's drawing of the path."""
    text = README.read_text()
    start = text.index("The path of one document, and the file")
    block = text[start:].split("```", 2)[1]
    return block.splitlines()


def _drawn_names(lines):
    """``{method name: the file named on its line, or None}``; the
    protocol's functions (``wire.check_envelope``) are in wire.py."""
    names = {}
    for line in lines:
        files = re.findall(r"models/[\w*]+\.py|\w+\.py", line)
        for name in re.findall(r"\b(_k2k_\w+)", line):
            names.setdefault(name, files[0] if files else None)
        for name in re.findall(r"\bwire\.(\w+)", line):
            names.setdefault(name, "wire.py")
    return names


class _Calls:
    """The addon's functions called while it is active, in every thread:
    ``{function name: {files it was defined in}}``."""

    def __init__(self):
        self.found = {}

    def __call__(self, frame, event, _arg):
        if event == "call" and frame.f_code.co_filename.startswith(str(ADDON)):
            path = os.path.relpath(frame.f_code.co_filename, ADDON)
            self.found.setdefault(frame.f_code.co_name, set()).add(path)

    def __enter__(self):
        sys.setprofile(self)
        threading.setprofile(self)
        return self

    def __exit__(self, *_exc):
        sys.setprofile(None)
        threading.setprofile(None)


@tagged("post_install", "-at_install")
class TestK2KPath(K2KFlowCommon):
    def test_the_readmes_drawing_is_the_path_an_invoice_takes(self):
        invoices = self.env["account.move"]
        for quantity in (30, 40, 50):
            po = self._buyer_po([(self.buyer_rose, quantity, 0.80)])
            self._validate_pickings(po.picking_ids)
            invoices |= self._vendor_invoice(po.k2k_sale_order_id, post=False)
        invoices[0].action_post()
        self._process()  # the first is a bill, and what the orders queued left
        with _Calls() as calls:
            # A new revision of the first (it goes alone), two new invoices
            # (they become bills together).
            self._revise(invoices[0], 0.85)
            invoices[1:].action_post()
            self._process()
        bills = [self._bill_of(invoice) for invoice in invoices]
        self.assertEqual(
            [bill.invoice_line_ids.quantity for bill in bills], [30, 40, 50]
        )
        self.assertEqual(bills[0].invoice_line_ids.price_unit, 0.85)

        lines = _drawing()
        over_http = [i for i, line in enumerate(lines) if "over HTTP" in line]
        inbox = [i for i, line in enumerate(lines) if "-> inbox" in line]
        self.assertEqual((len(over_http), len(inbox)), (1, 1), "the drawing changed")
        http_lines = lines[over_http[0] : inbox[0]]
        names = _drawn_names(lines)
        self.assertGreaterEqual(len(names), 8, names)
        http_only = set(_drawn_names(http_lines)) - set(
            _drawn_names(lines[: over_http[0]] + lines[inbox[0] :])
        )
        for name, file in names.items():
            if name in http_only:
                continue
            with self.subTest(name=name):
                self.assertTrue(name in calls.found, "drawn, but not on the path")
                if file and (file.startswith("models/") or file == "wire.py"):
                    pattern = re.compile(file.replace("*", r"\w+") + "$")
                    self.assertTrue(
                        any(pattern.search(path) for path in calls.found[name]),
                        f"{name} is not in {file}: {calls.found[name]}",
                    )
        # What travels over HTTP only is named after functions that exist.
        for name in http_only:
            self.assertTrue(hasattr(self.env["k2k.transport.http"], name), f"no {name}")
        # "http_client.post_signed(_one_after_another)": both functions.
        posts = [
            name
            for line in http_lines
            for base, more in re.findall(r"http_client\.(\w+)\((_\w+)?\)", line)
            for name in (base, base + more)
        ]
        self.assertEqual(
            [name for name in posts if not hasattr(http_client, name)], [], posts
        )
        self.assertTrue(posts)
        for file in {f for line in lines for f in re.findall(r"\S+\.py", line)}:
            with self.subTest(file=file):
                folder = ADDON / os.path.dirname(file)
                pattern = os.path.basename(file)
                self.assertTrue(list(folder.glob(pattern)), f"no {file}")
