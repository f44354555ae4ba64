"""k2k_network across two databases: invoices per second from a vendor's
Odoo server to a buyer's, both on loopback, each with its own database.

Run by bench/run.sh with the Odoo venv's Python. It copies the benchmark's
template database twice, starts two servers (cron threads on, as in
production), joins them with an invitation code, has the buyer confirm N
purchase orders (K2K orders over HTTP), the vendor invoice them, then posts
all N invoices at once and times until the N bills (with PDF) exist at the
buyer: the vendor's scheduled action renders the PDFs in one batch and posts
each message to the buyer's endpoint.
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests_integration"))

from conftest import OdooCli  # noqa: E402
from remote_network import (  # noqa: E402
    OdooServer,
    invoice_sale_orders,
    join_network,
    make_k2k_products,
    wait_until,
)


def _chunks(ids, size=100):
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def main(n, template, out):
    cli = OdooCli()
    log_dir = tempfile.mkdtemp(prefix="k2k-bench-")
    vendor = OdooServer(cli, "k2k_bench_vendor", 8181, log_dir)
    buyer = OdooServer(cli, "k2k_bench_buyer", 8182, log_dir)
    try:
        for server in (vendor, buyer):
            server.create_from(template)
            server.set_param("k2k_network.retry_base_seconds", "5")
            # K2K_BENCH_BATCH_SIZE: messages per run of the scheduled action.
            if os.environ.get("K2K_BENCH_BATCH_SIZE"):
                server.set_param(
                    "k2k_network.batch_size", os.environ["K2K_BENCH_BATCH_SIZE"]
                )
            # K2K_BENCH_PREPARE_SIZE: messages built together (one PDF run),
            # then posted one request after the other.
            if os.environ.get("K2K_BENCH_PREPARE_SIZE"):
                server.set_param(
                    "k2k_network.prepare_size", os.environ["K2K_BENCH_PREPARE_SIZE"]
                )
            # K2K_BENCH_HTTP_BATCH=1: one message per request, to compare.
            if os.environ.get("K2K_BENCH_HTTP_BATCH"):
                server.set_param(
                    "k2k_network.http_batch_size", os.environ["K2K_BENCH_HTTP_BATCH"]
                )
            server.start()
        joined = join_network(
            vendor, buyer, "Bench Remote Vendor", "Bench Remote Buyer"
        )
        supplier = buyer.read_one(
            "k2k.connection", joined["buyer_connection"], ["vendor_partner_id"]
        )["vendor_partner_id"][0]
        pairs = make_k2k_products(vendor, buyer, supplier, count=5)
        pos = buyer.call(
            "purchase.order",
            "create",
            [
                {
                    "partner_id": supplier,
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": bp,
                                "product_qty": 10,
                                "price_unit": 1.0 + i,
                            },
                        )
                        for i, (_vp, bp) in enumerate(pairs)
                    ],
                }
                for _ in range(n)
            ],
        )
        # In chunks: each confirmation sends its K2K order over HTTP, and
        # 1,000 in one call outlast the server's request time limit.
        for chunk in _chunks(pos):
            buyer.call("purchase.order", "button_confirm", chunk)
        names = [
            po["name"] for po in buyer.call("purchase.order", "read", pos, ["name"])
        ]
        sale_orders = vendor.call(
            "sale.order", "search", [("client_order_ref", "in", names)]
        )
        assert len(sale_orders) == n, len(sale_orders)
        for chunk in _chunks(sale_orders):
            invoice_sale_orders(vendor, chunk)
        invoices = vendor.call(
            "account.move",
            "search",
            [("move_type", "=", "out_invoice"), ("state", "=", "draft")],
        )
        assert len(invoices) == n, len(invoices)
        # The vendor's answers to the K2K orders (confirmed) go before the
        # window opens: it measures the invoices alone, as it always did.
        wait_until(
            lambda: not vendor.count("k2k.message", [("state", "=", "queued")]),
            300,
            "the vendor's answers delivered",
            interval=0.2,
        )

        start = time.perf_counter()
        vendor.call("account.move", "action_post", invoices)
        posted = time.perf_counter()

        def all_bills():
            return (
                buyer.count(
                    "account.move",
                    [
                        ("k2k_document_uid", "!=", False),
                        ("message_main_attachment_id", "!=", False),
                    ],
                )
                >= n
            )

        wait_until(all_bills, 600, f"{n} bills at the buyer", interval=0.2)
        done = time.perf_counter()
        # The buyer commits each request before it answers; the vendor
        # records the outcomes of a whole batch when its own run commits.
        wait_until(
            lambda: vendor.count(
                "k2k.message",
                [("message_type", "=", "invoice"), ("state", "=", "applied")],
            )
            == n,
            120,
            "the vendor recorded every outcome",
            interval=0.2,
        )
        result = {
            "bench": "cross_db",
            "impl": "k2k_network",
            "n": n,
            "post_all_s": posted - start,
            "until_last_bill_s": done - start,
            "invoices_per_s": n / (done - start),
        }
        with open(out, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(result) + "\n")
        print(json.dumps(result))
    finally:
        for server in (vendor, buyer):
            server.stop()
            server.drop()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
