"""Posting latency of K2K invoices, automation 1 on versus off.

Run inside ``odoo-bin shell`` (see bench/posting_latency.sh): it builds two
companies, a connection and K2K orders, times ``action_post`` for invoices
of 5 lines with the vendor's synchronization on and off (alternating, so
that both see the same database), then times the scheduled action that
turns the queued invoices into bills (PDFs rendered by wkhtmltopdf).
The companies stay in the benchmark database; the invoices are rolled back.
"""

import statistics
import time

N = int(env.context.get("k2k_bench_n") or 40)  # noqa: F821 - odoo shell's env

env = env(context=dict(env.context, tracking_disable=True))  # noqa: F821
if env.context.get("k2k_report_url"):
    env["ir.config_parameter"].set_param("report.url", env.context["k2k_report_url"])


def company(name):
    comp = env["res.company"].create({"name": name})
    env["account.chart.template"].try_loading("generic_coa", comp, install_demo=False)
    # Outside test mode Odoo leaves the first warehouse to the onboarding.
    if not env["stock.warehouse"].search([("company_id", "=", comp.id)]):
        env["stock.warehouse"].create(
            {"company_id": comp.id, "name": name, "code": name[-3:]}
        )
    return comp


run = time.strftime("%H%M%S")
vendor = company(f"Bench Vendor {run}")
buyer = company(f"Bench Buyer {run}")
env.user.company_ids |= vendor | buyer
env = env(context=dict(env.context, allowed_company_ids=[vendor.id, buyer.id]))
connection = env["k2k.connection"].create(
    {"vendor_company_id": vendor.id, "buyer_company_id": buyer.id, "state": "active"}
)
buyer.k2k_invoice_upload_enabled = True
products = env["product.product"].create(
    [
        {
            "name": f"Bench flower {i}",
            "default_code": f"BF{run}-{i}",
            "company_id": vendor.id,
            "invoice_policy": "order",
            "list_price": 1 + i,
        }
        for i in range(5)
    ]
)

# Committed, so that the HTTP server wkhtmltopdf talks to sees the companies
# (their logos are fetched from it); the benchmark database is its own.
env.cr.commit()


def draft_invoice():
    order = (
        env["sale.order"]
        .with_company(vendor)
        .create(
            {
                "partner_id": buyer.partner_id.id,
                "company_id": vendor.id,
                "k2k_connection_id": connection.id,
                "order_line": [
                    (
                        0,
                        0,
                        {"product_id": p.id, "product_uom_qty": 10, "price_unit": 2.0},
                    )
                    for p in products
                ],
            }
        )
    )
    order.action_confirm()
    return order._create_invoices()


def timed_post(invoice):
    env.flush_all()
    queries = env.cr.sql_log_count
    start = time.perf_counter()
    invoice.action_post()
    env.flush_all()
    return (time.perf_counter() - start) * 1000, env.cr.sql_log_count - queries


results = {True: [], False: []}
for i in range(2 * N):
    sync_on = bool(i % 2)
    vendor.k2k_invoice_sync_enabled = sync_on
    results[sync_on].append(timed_post(draft_invoice()))

messages = env["k2k.message"].search([("state", "=", "queued")])
env.flush_all()
queries = env.cr.sql_log_count
start = time.perf_counter()
messages._k2k_prepare_invoice_payloads()  # PDFs (one batch) and payloads
env.flush_all()
prepared = time.perf_counter()
env["k2k.message"]._cron_process_messages()  # delivery and the buyer's bills
env.flush_all()
elapsed = time.perf_counter() - start
prepare_share = (prepared - start) / elapsed
bills = messages.filtered(lambda m: m.state == "applied")

print()
print(f"| invoices of 5 lines (N={N} each) | median ms | p95 ms | queries |")
print("| --- | --- | --- | --- |")
for sync_on in (False, True):
    times = sorted(t for t, _q in results[sync_on])
    p95 = times[int(0.95 * (len(times) - 1))]
    label = (
        "action_post, automation 1 on" if sync_on else "action_post, automation 1 off"
    )
    print(
        f"| {label} | {statistics.median(times):.1f} | {p95:.1f} | "
        f"{statistics.median(q for _t, q in results[sync_on]):.0f} |"
    )
ratio = statistics.median(t for t, _q in results[True]) / statistics.median(
    t for t, _q in results[False]
)
print(f"| ratio on/off (median) | {ratio:.2f}x | | |")
per_bill_ms = 1000 * elapsed / max(len(bills), 1)
print(f"| (of which PDFs and payloads) | {prepare_share * per_bill_ms:.1f} | | |")
per_bill_queries = (env.cr.sql_log_count - queries) / max(len(bills), 1)
print(
    f"| sync: {len(bills)} bills with PDF, per bill | {per_bill_ms:.1f} | "
    f"| {per_bill_queries:.0f} |"
)
env.cr.rollback()
