"""Odoo's own floor for the cross-database work: what Odoo itself needs, in
one process and without K2K, to turn N vendor invoices into N buyer bills.

Run by bench/run.sh inside ``odoo-bin shell`` (with bench/ on sys.path),
once per cross-database size. Two companies of this database, the five
shared products, no K2K connection and every automation off. Not timed: N
purchase orders of 5 lines at the buyer (confirmed), N sale orders at the
vendor for the buyer (confirmed, one draft invoice each). Timed, one after
the other, each window flushed as in ``bench_lib.timed``:

- posting: the N invoices in one ``action_post`` (the cross-database clock
  starts with that same call);
- PDFs: Odoo's standard report path (``_render_qweb_pdf`` of the invoice
  report K2K sends), one call per batch of 50 invoices, the batch of K2K's
  scheduled action;
- bills: Odoo's *Create Bill* (``purchase.order.action_create_invoice``),
  one purchase order at a time and, on N other orders, in selections of 50.
  The floor takes the faster of the modes that make one bill per order.

Everything but the companies and products is rolled back at the end.
"""

import io
import statistics

import bench_lib as bench
from PyPDF2 import PdfFileReader

# Whether Odoo's own batch path works with this wkhtmltopdf: the same check
# k2k_network makes before it gives wkhtmltopdf a batch as one document.
from odoo.addons.k2k_network.models.ir_actions_report import (
    _wkhtmltopdf_prints_several_documents,
)

env, N = bench.bench_env(env)  # noqa: F821 - the shell's env
BATCH = 50  # k2k_network.batch_size: invoices per PDF run; orders per selection
REPORT = "account.account_invoices"  # the invoice PDF k2k_network sends
PLAIN_SAMPLE = 3  # invoices rendered alone, for scale (not in the floor)


def batches(records, size=BATCH):
    return [records[i : i + size] for i in range(0, len(records), size)]


env, vendor, buyer = bench.make_companies(env)
products = bench.make_products(env)
# No connection between the two, and the automations off all the same.
(vendor | buyer).write(
    {
        "k2k_invoice_sync_enabled": False,
        "k2k_invoice_upload_enabled": False,
        "k2k_split_ecommerce_po_enabled": False,
    }
)
# Committed so that the server wkhtmltopdf talks to sees the companies, as
# in k2k_invoices.py; this database is the benchmark's own.
env.cr.commit()

# -- set-up, not timed ---------------------------------------------------------

# N orders billed one at a time, N others in selections.
purchase_orders = bench.make_purchase_orders(env, vendor, buyer, products, 2 * N)
purchase_orders.button_confirm()
assert set(purchase_orders.mapped("invoice_status")) == {"to invoice"}
one_by_one_orders, selected_orders = purchase_orders[:N], purchase_orders[N:]

sale_orders = (
    env["sale.order"]
    .with_company(vendor)
    .create(
        [
            {
                "partner_id": buyer.partner_id.id,
                "company_id": vendor.id,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": p.id,
                            "product_uom_qty": 10,
                            "price_unit": 1.0 + i,
                        },
                    )
                    for i, p in enumerate(products)
                ],
            }
            for _ in range(N)
        ]
    )
)
sale_orders.action_confirm()
invoices = sale_orders._create_invoices(grouped=True)
assert len(invoices) == N and set(invoices.mapped("state")) == {"draft"}

# -- (a) posting, in one call as cross_db.py posts them ------------------------

post_ms, _post_queries = bench.timed(env, invoices.action_post)
assert set(invoices.mapped("state")) == {"posted"}

# -- (b) the PDFs, Odoo's report path, a batch of 50 per call ------------------

Report = env["ir.actions.report"].with_company(vendor)
several = _wkhtmltopdf_prints_several_documents()
if not several:
    # Odoo gives wkhtmltopdf a batch as several documents, which Debian's
    # build cannot print: the batch goes to it as one document, a page
    # break before each invoice (k2k_network's own workaround, switched on
    # by this context key; the rest of the path is Odoo's), and Odoo splits
    # the result page by page.
    Report = Report.with_context(k2k_print_as_one_document=True)
pdf_ms, pdfs = 0.0, []
for batch in batches(invoices):
    ms, _queries = bench.timed(
        env,
        lambda b=batch: pdfs.append(Report._render_qweb_pdf(REPORT, res_ids=b.ids)),
    )
    pdf_ms += ms
for batch, (content, kind) in zip(batches(invoices), pdfs, strict=True):
    assert kind == "pdf", kind
    pages = PdfFileReader(io.BytesIO(content)).numPages
    assert pages == len(batch), (pages, len(batch))

# For scale only: the path Odoo itself has with Debian's wkhtmltopdf, one
# invoice per run.
plain_ms = None
if not several:
    plain = invoices[:PLAIN_SAMPLE]
    Plain = env["ir.actions.report"].with_company(vendor)
    plain_ms = bench.timed(
        env,
        lambda: [Plain._render_qweb_pdf(REPORT, res_ids=move.ids) for move in plain],
    )[0] / len(plain)

# -- (c) the bills, Odoo's Create Bill -----------------------------------------

one_by_one = [bench.timed(env, po.action_create_invoice) for po in one_by_one_orders]
one_by_one_bills = one_by_one_orders.invoice_ids
assert len(one_by_one_bills) == N, len(one_by_one_bills)
assert set(one_by_one_orders.mapped("invoice_status")) == {"invoiced"}

selected = [
    bench.timed(env, selection.action_create_invoice)
    for selection in batches(selected_orders)
]
selected_bills = selected_orders.invoice_ids
assert set(selected_orders.mapped("invoice_status")) == {"invoiced"}

modes = {
    "one_by_one": (sum(ms for ms, _q in one_by_one), one_by_one, len(one_by_one_bills)),
    "selections_of_50": (
        sum(ms for ms, _q in selected),
        selected,
        len(selected_bills),
    ),
}
# Odoo makes one bill per vendor of a selection (purchase groups the orders
# by company, partner and currency): a selection of 50 orders from one vendor
# is one bill of 250 lines, which is not the work measured. Only a mode that
# makes N bills can be the floor; the other is reported beside it.
eligible = {mode: v for mode, v in modes.items() if v[2] == N}
bills_mode = min(eligible, key=lambda mode: eligible[mode][0])
bills_ms = eligible[bills_mode][0]

floor_ms = post_ms + pdf_ms + bills_ms
bench.save_result(
    env,
    {
        "bench": "floor",
        "impl": "odoo",
        "n": N,
        "post_s": post_ms / 1000,
        "pdf_s": pdf_ms / 1000,
        "bills_s": bills_ms / 1000,
        "floor_s": floor_ms / 1000,
        "invoices_per_s": N / (floor_ms / 1000),
        "bills_mode": bills_mode,
        "create_bill_queries_per_bill": sum(q for _ms, q in modes[bills_mode][1]) / N,
        "create_bill": {
            mode: {
                "s": total / 1000,
                "ms_per_order": total / N,
                "median_ms_per_call": statistics.median(ms for ms, _q in timings),
                "queries_per_order": sum(q for _ms, q in timings) / N,
                "bills": bills,
            }
            for mode, (total, timings, bills) in modes.items()
        },
        "pdf_batch": BATCH,
        "pdf_as_one_document": not several,
        "pdf_plain_one_per_run_ms": plain_ms,
    },
)
env.cr.rollback()
