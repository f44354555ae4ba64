"""k2k_network: the vendor's action_post with automation 1 on versus off.

Run by bench/run.sh inside ``odoo-bin shell``. Invoices of 5 lines from K2K
orders, posted one by one, the automation switched on and off in turn so
that both see the same database. Rolled back at the end.
"""

import bench_lib as bench

env, N = bench.bench_env(env)  # noqa: F821 - the shell's env

env, vendor, buyer = bench.make_companies(env)
products = bench.make_products(env)
connection = bench.connect(env, vendor, buyer)
buyer.k2k_invoice_upload_enabled = True

orders = (
    env["sale.order"]
    .with_company(vendor)
    .create(
        [
            {
                "partner_id": buyer.partner_id.id,
                "company_id": vendor.id,
                "k2k_connection_id": connection.id,
                "order_line": bench.order_lines(products),
            }
            for _ in range(2 * N)
        ]
    )
)
orders.action_confirm()
invoices = orders._create_invoices(grouped=True)
# Warm the caches (sequence, report, journal) on one invoice of each kind.
for sync_on in (False, True):
    vendor.k2k_invoice_sync_enabled = sync_on
    extra = orders[:1].copy()
    extra.action_confirm()
    extra._create_invoices().action_post()

results = {True: [], False: []}
for i, invoice in enumerate(invoices):
    sync_on = bool(i % 2)
    vendor.k2k_invoice_sync_enabled = sync_on
    results[sync_on].append(bench.timed(env, invoice.action_post))

for sync_on in (False, True):
    bench.save_result(
        env,
        {
            "bench": "posting",
            "impl": "k2k_network",
            "sync": sync_on,
            "n": N,
            "ms": bench.summary([ms for ms, _q in results[sync_on]]),
            "queries": bench.summary([q for _ms, q in results[sync_on]]),
        },
    )
env.cr.rollback()
