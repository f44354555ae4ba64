"""OCA's account_invoice_inter_company 18.0: the same invoices as
k2k_invoices.py (5 shared products, 5 lines, from sale orders) posted one by
one; the module makes the buyer's bill (left in draft) and renders the PDF
inside action_post, so the posting time is its end-to-end time. Posting the
same invoices to a customer that is no company gives the posting time
without any synchronization (its "off"). Rolled back at the end.
"""

import statistics

import bench_lib as bench

env, N = bench.bench_env(env)  # noqa: F821 - the shell's env

env, vendor, buyer = bench.make_companies(env)
(vendor | buyer).write({"intercompany_invoicing": True})
buyer.invoice_auto_validation = False  # bills left in draft, as the K2K ones
products = bench.make_products(env)
customer = env["res.partner"].create({"name": "Bench Florist", "is_company": True})
env.cr.commit()

n_off = min(N, 50)
orders = (
    env["sale.order"]
    .with_company(vendor)
    .create(
        [
            {
                "partner_id": (buyer.partner_id if i < N else customer).id,
                "company_id": vendor.id,
                "order_line": bench.order_lines(products),
            }
            for i in range(N + n_off)
        ]
    )
)
orders.action_confirm()
invoices = orders._create_invoices(grouped=True)
to_buyer = invoices.filtered(lambda m: m.partner_id == buyer.partner_id)
to_customer = invoices - to_buyer

off = [bench.timed(env, invoice.action_post) for invoice in to_customer]
on = [bench.timed(env, invoice.action_post) for invoice in to_buyer]
bills = env["account.move"].search(
    [("company_id", "=", buyer.id), ("move_type", "=", "in_invoice")]
)
with_pdf = env["ir.attachment"].search_count(
    [
        ("res_model", "=", "account.move"),
        ("res_id", "in", bills.ids),
        ("mimetype", "=", "application/pdf"),
    ]
)
assert len(bills) == N and with_pdf == N, (len(bills), with_pdf)
off_queries = statistics.median(q for _ms, q in off)

bench.save_result(
    env,
    {
        "bench": "invoice_sync",
        "impl": "oca",
        "n": N,
        "end_to_end_ms": bench.summary([ms for ms, _q in on]),
        "posting_ms": bench.summary([ms for ms, _q in on]),
        "queries_per_bill": statistics.fmean(q for _ms, q in on) - off_queries,
        "bills_with_pdf": with_pdf,
    },
)
if env.context.get("k2k_bench_posting_n") == N:
    for sync_on, values in ((False, off), (True, on[: len(off)])):
        bench.save_result(
            env,
            {
                "bench": "posting",
                "impl": "oca",
                "sync": sync_on,
                "n": len(values),
                "ms": bench.summary([ms for ms, _q in values]),
                "queries": bench.summary([q for _ms, q in values]),
            },
        )
env.cr.rollback()
