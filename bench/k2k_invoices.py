"""k2k_network: N posted vendor invoices of 5 lines -> N buyer bills with PDF.

Run by bench/run.sh inside ``odoo-bin shell`` (with bench/ on sys.path).
The invoices come from the real K2K path: the buyer's purchase orders are
confirmed, the vendor's K2K orders confirmed and invoiced (none of it
timed). Then each invoice is posted (timed: what the person posting waits
for) and the scheduled action's code turns the queue into bills (timed:
PDFs, payloads, delivery, bills). Everything is rolled back at the end.
"""

import time

import bench_lib as bench

env, N = bench.bench_env(env)  # noqa: F821 - the shell's env

env, vendor, buyer = bench.make_companies(env)
products = bench.make_products(env)
bench.connect(env, vendor, buyer)
vendor.k2k_invoice_sync_enabled = True
buyer.k2k_invoice_upload_enabled = True
# Committed so that the server wkhtmltopdf talks to sees the companies
# (logos, addresses); this database is the benchmark's own.
env.cr.commit()

purchase_orders = bench.make_purchase_orders(env, vendor, buyer, products, N)
for po in purchase_orders:
    po.button_confirm()  # the K2K order reaches the vendor
sale_orders = purchase_orders.k2k_sale_order_id.with_company(vendor)
assert len(sale_orders) == N, "every purchase order became a K2K order"
sale_orders.action_confirm()
invoices = sale_orders._create_invoices(grouped=True)
assert len(invoices) == N

posting = [bench.timed(env, invoice.action_post) for invoice in invoices]

Message = env["k2k.message"]
env.cr.flush()  # with the precommit hooks: see bench_lib.timed
queries = env.cr.sql_log_count
start = time.perf_counter()
for _batch in range(N + 5):  # the scheduled action takes a small batch at a time
    if not Message.search_count([("state", "=", "queued")]):
        break
    Message._cron_process_messages()
env.cr.flush()
sync_ms = (time.perf_counter() - start) * 1000
sync_queries = env.cr.sql_log_count - queries

bills = env["account.move"].search(
    [("company_id", "=", buyer.id), ("k2k_document_uid", "!=", False)]
)
with_pdf = bills.filtered(
    lambda b: b.message_main_attachment_id.mimetype == "application/pdf"
)
assert len(bills) == N and len(with_pdf) == N, (len(bills), len(with_pdf))

# For comparison, Odoo's own bill from one of these purchase orders (the
# standard "Create Bill" button), which is most of what a synced bill costs.
native_po = purchase_orders[:1].copy()
native_po.button_confirm()
native_bill_queries = bench.timed(env, native_po.action_create_invoice)[1]

# Posting with the automation off, for the queries the sync adds.
vendor.k2k_invoice_sync_enabled = False
more = sale_orders[:1].copy()
more.action_confirm()
off_queries = bench.timed(env, more._create_invoices().action_post)[1]

share = sync_ms / N
bench.save_result(
    env,
    {
        "bench": "invoice_sync",
        "impl": "k2k_network",
        "n": N,
        "end_to_end_ms": bench.summary([ms + share for ms, _q in posting]),
        "posting_ms": bench.summary([ms for ms, _q in posting]),
        "sync_ms_per_invoice": share,
        "queries_per_bill": (sync_queries + sum(q for _ms, q in posting)) / N
        - off_queries,
        "bills_with_pdf": len(with_pdf),
        "odoo_bill_from_po_queries": native_bill_queries,
    },
)
env.cr.rollback()
