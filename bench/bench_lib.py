"""Helpers shared by the benchmark scripts that run inside ``odoo-bin shell``
(each script imports this module, which bench/_bench.sh puts on sys.path,
and hands it the shell's ``env``)."""

import json
import statistics
import time

RUN = time.strftime("%H%M%S")
LINES = 5  # lines per invoice, as in the issue


def bench_env(env):
    """The shell's environment as a benchmark runs in it (tracking on, as a
    user works), and the run's size N."""
    env = env(context=dict(env.context, tracking_disable=False))
    if env.context.get("k2k_report_url"):
        # wkhtmltopdf fetches the report CSS from this server.
        env["ir.config_parameter"].set_param(
            "report.url", env.context["k2k_report_url"]
        )
    return env, int(env.context["k2k_bench_n"])


def make_company(env, name):
    company = env["res.company"].create({"name": name})
    env["account.chart.template"].try_loading(
        "generic_coa", company, install_demo=False
    )
    # Outside test mode Odoo leaves the first warehouse to the onboarding.
    if not env["stock.warehouse"].search([("company_id", "=", company.id)]):
        env["stock.warehouse"].create(
            {"company_id": company.id, "name": name, "code": name[-5:]}
        )
    return company


def make_companies(env, current="vendor"):
    """A vendor and a buyer company of this run, both allowed to the user;
    return the environment on both (``current`` first), vendor, buyer."""
    vendor = make_company(env, f"Bench Vendor {RUN}")
    buyer = make_company(env, f"Bench Buyer {RUN}")
    env.user.company_ids |= vendor | buyer
    companies = [vendor.id, buyer.id] if current == "vendor" else [buyer.id, vendor.id]
    return env(context=dict(env.context, allowed_company_ids=companies)), vendor, buyer


def connect(env, vendor, buyer):
    """An active K2K connection between the two (the handshake is not what
    is measured)."""
    connection = env["k2k.connection"].create(
        {"vendor_company_id": vendor.id, "buyer_company_id": buyer.id}
    )
    connection.sudo().state = "active"
    return connection


def make_products(env):
    """Five products shared by both companies, as both databases have them."""
    return env["product.product"].create(
        [
            {
                "name": f"Bench flower {i}",
                "default_code": f"BF{RUN}-{i}",
                "type": "consu",
                "invoice_policy": "order",
                "purchase_method": "purchase",
                "list_price": 1 + i,
            }
            for i in range(LINES)
        ]
    )


def order_lines(products, qty=10):
    return [
        (0, 0, {"product_id": p.id, "product_uom_qty": qty, "price_unit": 1.0 + i})
        for i, p in enumerate(products)
    ]


def make_purchase_orders(env, vendor, buyer, products, count):
    """``count`` draft purchase orders of the buyer from the vendor, one line
    per product (10 each, at 1.0, 2.0...)."""
    return (
        env["purchase.order"]
        .with_company(buyer)
        .create(
            [
                {
                    "partner_id": vendor.partner_id.id,
                    "company_id": buyer.id,
                    "order_line": [
                        (0, 0, {**vals, "product_qty": vals.pop("product_uom_qty")})
                        for _c, _i, vals in order_lines(products)
                    ],
                }
                for _ in range(count)
            ]
        )
    )


def timed(env, func):
    """(milliseconds, SQL queries) of ``func()``, flushed. ``cr.flush()``
    also runs the precommit hooks (Odoo's deferred tracking): what came
    before is done before the clock starts, and what ``func`` defers is
    counted."""
    env.cr.flush()
    queries = env.cr.sql_log_count
    start = time.perf_counter()
    func()
    env.cr.flush()
    return (time.perf_counter() - start) * 1000, env.cr.sql_log_count - queries


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def summary(values):
    return {
        "median": statistics.median(values),
        "p95": percentile(values, 0.95),
        "mean": statistics.fmean(values),
    }


def save_result(env, result):
    path = env.context["k2k_bench_out"]
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(result) + "\n")
    print(json.dumps(result))
