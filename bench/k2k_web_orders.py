"""k2k_network automation 3: web-shop orders procured with it on versus off.

Run by bench/run.sh inside ``odoo-bin shell``. The buyer sells two products
bought from its K2K vendor (make to order + buy). Each web order is
confirmed (timed: Odoo's procurement makes or joins the purchase order);
the automation is switched on and off in turn, so with it off the orders
consolidate into one growing purchase order as in Odoo, and with it on each
gets its own. Rolled back at the end.
"""

import bench_lib as bench

env, N = bench.bench_env(env)  # noqa: F821 - the shell's env

env, vendor, buyer = bench.make_companies(env, current="buyer")
bench.connect(env, vendor, buyer)
mto = env.ref("stock.route_warehouse0_mto")
mto.active = True
buy = env.ref("purchase_stock.route_warehouse0_buy")
products = env["product.product"].create(
    [
        {
            "name": f"Bench web flower {i}",
            "type": "consu",
            "company_id": buyer.id,
            "route_ids": [(6, 0, (mto | buy).ids)],
            "seller_ids": [
                (
                    0,
                    0,
                    {
                        "partner_id": vendor.partner_id.id,
                        "price": 1.0 + i,
                        "product_code": f"BW{bench.RUN}-{i}",
                        "company_id": buyer.id,
                    },
                )
            ],
        }
        for i in range(2)
    ]
)
website = env["website"].create(
    {"name": f"Bench Shop {bench.RUN}", "company_id": buyer.id}
)
customer = env["res.partner"].create({"name": "Bench Web Customer"})

orders = (
    env["sale.order"]
    .with_company(buyer)
    .create(
        [
            {
                "partner_id": customer.id,
                "company_id": buyer.id,
                "website_id": website.id,
                "order_line": [
                    (0, 0, {"product_id": p.id, "product_uom_qty": 3}) for p in products
                ],
            }
            for _ in range(3 * N + 2)
        ]
    )
)
# Warm the caches on one order of each kind.
for split_on, order in zip((False, True), orders[-2:], strict=True):
    buyer.k2k_split_ecommerce_po_enabled = split_on
    order.action_confirm()
consolidated = env["purchase.order"].search(
    [("company_id", "=", buyer.id), ("k2k_web_sale_order_id", "=", False)]
)
Purchase = env["purchase.order"]

# Three kinds in turn: automation 3 off, the order joins the open purchase
# order (Odoo's consolidation); on, it gets its own; and off with no open
# purchase order, so that Odoo itself creates one (what a new purchase order
# costs, whoever asks for it). Only action_confirm is timed.
results = {"off": [], "on": [], "off_new": []}
kinds = ("off", "on", "off_new")
# Only the consolidated order stays open (draft) between orders: a purchase
# order made for one order is marked sent right away (not timed), as it
# would be soon in real life, so that only "off" orders join.
Purchase.search(
    [("company_id", "=", buyer.id), ("id", "not in", consolidated.ids)]
).state = "sent"
for i, order in enumerate(orders[: 3 * N]):
    kind = kinds[i % 3]
    buyer.k2k_split_ecommerce_po_enabled = kind == "on"
    if kind == "off_new":
        consolidated.state = "sent"  # not open: Odoo must make a new one
    before = Purchase.search([("company_id", "=", buyer.id)])
    results[kind].append(bench.timed(env, order.action_confirm))
    made = Purchase.search([("company_id", "=", buyer.id)]) - before
    assert len(made) == (0 if kind == "off" else 1), (kind, made)
    made.state = "sent"
    consolidated.state = "draft"

pos = Purchase.search([("company_id", "=", buyer.id)])
split_pos = pos.filtered("k2k_web_sale_order_id")
assert len(split_pos) == N + 1, len(split_pos)
for kind in kinds:
    bench.save_result(
        env,
        {
            "bench": "web_orders",
            "impl": "k2k_network",
            "split": kind == "on",
            "kind": kind,
            "n": N,
            "ms": bench.summary([ms for ms, _q in results[kind]]),
            "queries": bench.summary([q for _ms, q in results[kind]]),
            "purchase_orders": {
                "off": 1,
                "on": N,
                "off_new": N,
            }[kind],
        },
    )
env.cr.rollback()
