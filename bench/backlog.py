"""k2k_network: a backlog of N queued invoices for 20 partners, one of them
down, drained the way Odoo's scheduler runs the scheduled action.

Run by bench/run.sh inside ``odoo-bin shell`` (with bench/ on sys.path).

Set-up (timed apart, not part of the drain): one vendor company and 19
buyer companies of this database, each joined to the vendor by the local
transport (buyers allow the upload), and one buyer in "another database"
that is down: an HTTP connection to a loopback port nobody listens on. The
companies are made once per database and found again on later runs (loading
a chart of accounts is most of their cost); connections, products and
invoices are new on each run. N invoices of 5 lines, N / 20 per partner,
are created directly (no K2K order: the backlog is about the queue, not
the order path) and posted in chunks with automation 1 on, so that posting
queues them in the outbox; each chunk is committed. They are made partner
by partner, the down partner's first: the outbox then holds them in the
order that is worst for partners taken in turn, and worst for a down
partner at the head of the queue.

The drain is Odoo's own scheduler code, minus the thread that calls it:
``ir.cron._acquire_one_job`` then ``ir.cron._process_job`` on the K2K
scheduled action, as a cron thread does when it wakes up (each is one
"job run": up to 10 calls of the action, each in its own transaction,
committed, with the scheduler's context: ``cron_id``, ``lastcall``, the
progress record), again and again until every message to the 19 reachable
partners is applied. Odoo's limit for a cron thread (``limit_time_real_cron``)
is set to ``LIMIT`` seconds for the run; Odoo kills a cron thread whose
``_process_jobs`` lasts longer, i.e. a job run here. A K2K "run" is the
calls that share one ``lastcall``: K2K ends it past its time budget
(``_k2k_get_time_budget``) and Odoo then starts another one.

Each call's duration and progress are read from Odoo's own log lines for the
call ("done in ...", "processed ... records"); each partner's bills from the
outbox (``date_done`` of its applied messages, to the second). At the end
the run's connections are deleted (their outbox rows go with them, so no
message stays queued for the next bench); the companies, the invoices and
the bills stay.
"""

import datetime
import logging
import math
import socket
import statistics
import time

import bench_lib as bench

from odoo import Command, fields
from odoo.sql_db import db_connect
from odoo.tools import config

from odoo.addons.k2k_network import wire

env, N = bench.bench_env(env)  # noqa: F821 - the shell's env
PARTNERS = 20  # the last one is down
LIMIT = 120  # seconds: Odoo's default limit_time_real, taken for its crons
CHUNK = 250  # invoices per create, and per posting transaction
STALL = 600  # seconds without a new bill before the drain is given up


def setup_companies(env):
    """The vendor and the 19 reachable buyers of this benchmark, made once
    per database; the down buyer is a partner only."""
    Company = env["res.company"]

    def company(name):
        return Company.search([("name", "=", name)], limit=1) or bench.make_company(
            env, name
        )

    vendor = company("Bench Backlog Vendor")
    buyers = [company(f"Bench Backlog Buyer {i:02d}") for i in range(1, PARTNERS)]
    env.user.company_ids |= vendor | Company.union(*buyers)
    down = env["res.partner"].search(
        [("name", "=", "Bench Backlog Down Buyer")], limit=1
    ) or env["res.partner"].create(
        {"name": "Bench Backlog Down Buyer", "is_company": True}
    )
    if not vendor.k2k_invoice_sync_enabled:
        vendor.k2k_invoice_sync_enabled = True
    for buyer in buyers:
        if not buyer.k2k_invoice_upload_enabled:
            buyer.k2k_invoice_upload_enabled = True
    return vendor, buyers, down


def closed_port_url():
    """A loopback port nobody listens on (as the module's tests do)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def connect_all(env, vendor, buyers, down):
    """The down partner's connection first, then one per reachable buyer."""
    Connection = env["k2k.connection"].sudo()
    # The down partner is a loopback address: plain http, as in the tests.
    env["ir.config_parameter"].sudo().set_param("k2k_network.allow_http", "1")
    down_connection = Connection.create(
        {
            "transport": "http",
            "local_role": "vendor",
            "vendor_company_id": vendor.id,
            "buyer_partner_id": down.id,
            "remote_url": closed_port_url(),
            "remote_database": f"bench_backlog_down_{bench.RUN}",
            "remote_company_name": down.name,
            "connection_uid": wire.new_uid(),
            "inbound_key": wire.new_secret(),
            "outbound_key": wire.new_secret(),
        }
    )
    down_connection.state = "active"
    reachable = Connection.create(
        [{"vendor_company_id": vendor.id, "buyer_company_id": b.id} for b in buyers]
    )
    reachable.state = "active"
    return down_connection, reachable


def make_invoices(env, vendor, connections, products):
    """N draft invoices of 5 lines, partner by partner (in ``connections``'
    order), created CHUNK at a time and committed."""
    Move = env["account.move"].with_company(vendor)
    share = [N // PARTNERS + (i < N % PARTNERS) for i in range(PARTNERS)]
    vals_list = [
        {
            "move_type": "out_invoice",
            "company_id": vendor.id,
            "partner_id": connection.buyer_partner_id.id,
            "invoice_date": fields.Date.context_today(Move),
            # What the K2K order's lines give a real K2K invoice.
            "k2k_connection_id": connection.id,
            "invoice_line_ids": [
                Command.create(
                    {"product_id": p.id, "quantity": 10, "price_unit": 1.0 + i}
                )
                for i, p in enumerate(products)
            ],
        }
        for connection, count in zip(connections, share, strict=True)
        for _ in range(count)
    ]
    moves = Move.browse()
    for start in range(0, len(vals_list), CHUNK):
        moves |= Move.create(vals_list[start : start + CHUNK])
        env.cr.commit()
    return moves


def post(env, moves):
    for start in range(0, len(moves), CHUNK):
        moves[start : start + CHUNK].action_post()
        env.cr.commit()
        env.invalidate_all()


class CronLog(logging.Handler):
    """Odoo's own log lines of each call of the scheduled action."""

    def __init__(self, cron_id):
        super().__init__(logging.INFO)
        self.cron_id = cron_id
        self.seconds, self.progress, self.failures = [], [], 0

    def emit(self, record):
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) < 2 or args[1] != self.cron_id:
            return
        if record.msg.startswith("Job %r (%s) done in"):
            self.seconds.append(args[2])
        elif record.msg.startswith("Job %r (%s) processed"):
            self.progress.append((args[2], args[3]))
        elif record.msg.startswith("Job %r (%s) server action #%s failed"):
            self.failures += 1


def count(env, query, params):
    env.cr.execute(query, params)
    row = env.cr.fetchone()
    env.cr.commit()  # a fresh snapshot for the next look
    return row


def drain(env, cron, reachable_ids, total):
    """Run the scheduler's code on the K2K job until the ``total`` messages
    to ``reachable_ids`` are applied; return the job runs, the drain's
    seconds (None when it stalled) and Odoo's log of the calls."""
    IrCron = env.registry["ir.cron"]
    db = db_connect(env.cr.dbname)
    log = CronLog(cron.id)
    cron_logger = logging.getLogger("odoo.addons.base.models.ir_cron")
    saved = cron_logger.level, cron_logger.propagate
    cron_logger.setLevel(logging.INFO)
    cron_logger.propagate = False  # kept out of the shell's own log
    cron_logger.addHandler(log)
    job_runs = []  # (lastcall, start, seconds), one per job run
    start = time.monotonic()
    last_progress, applied, drained_at = start, 0, None
    try:
        while True:
            with db.cursor() as cron_cr:
                job = IrCron._acquire_one_job(cron_cr, cron.id)
                if job:
                    began = time.monotonic()
                    IrCron._process_job(db, cron_cr, job)
                    job_runs.append((job["lastcall"], began, time.monotonic() - began))
                else:
                    cron_cr.rollback()
            done = count(
                env,
                "SELECT count(*) FROM k2k_message WHERE connection_id IN %s "
                "AND message_type = 'invoice' AND state = 'applied'",
                [tuple(reachable_ids)],
            )[0]
            now = time.monotonic()
            if done > applied:
                applied, last_progress = done, now
            if applied >= total:
                drained_at = now - start
                break
            if now - last_progress > STALL:
                break
            if not job:
                time.sleep(1)  # not ready: a cron thread would sleep too
    finally:
        cron_logger.removeHandler(log)
        cron_logger.setLevel(saved[0])
        cron_logger.propagate = saved[1]
    return job_runs, drained_at, log


# -- set-up, timed apart -------------------------------------------------------

setup_start = time.perf_counter()
vendor, buyers, down = setup_companies(env)
env = env(
    context=dict(
        env.context,
        allowed_company_ids=[vendor.id] + [b.id for b in buyers],
        # Set-up only: no chatter for what is not measured.
        tracking_disable=True,
        mail_create_nolog=True,
        mail_notrack=True,
    )
)
products = bench.make_products(env)
down_connection, reachable = connect_all(env, vendor, buyers, down)
env.cr.commit()
companies_s = time.perf_counter() - setup_start

Message = env["k2k.message"].sudo()
foreign_due = Message.search_count(
    [("state", "=", "queued"), ("connection_id.vendor_company_id", "!=", vendor.id)]
)
cron = env.ref("k2k_network.ir_cron_k2k_process_messages")
params = env["ir.config_parameter"].sudo()

created = time.perf_counter()
invoices = make_invoices(env, vendor, down_connection | reachable, products)
create_s = time.perf_counter() - created
posted = time.perf_counter()
post(env, invoices)
post_s = time.perf_counter() - posted
setup_s = time.perf_counter() - setup_start
queued = Message.search_count(
    [
        ("connection_id", "in", (down_connection | reachable).ids),
        ("message_type", "=", "invoice"),
        ("state", "=", "queued"),
    ]
)
assert queued == N, (queued, N)
reachable_n = Message.search_count(
    [("connection_id", "in", reachable.ids), ("message_type", "=", "invoice")]
)
print(
    f"backlog set-up: {setup_s:.1f} s (companies, products, connections "
    f"{companies_s:.1f} s; {N} invoices created {create_s:.1f} s, posted "
    f"{post_s:.1f} s); {queued} queued, {foreign_due} others' due"
)

# -- the drain, as Odoo's scheduler runs it ------------------------------------

saved_limit = config["limit_time_real_cron"]
config["limit_time_real_cron"] = LIMIT
try:
    budget_s = Message._k2k_get_time_budget()
    batch_size = env["k2k.message"]._k2k_get_batch_size()
    retry_base_s = float(params.get_param("k2k_network.retry_base_seconds", "60"))
    env.cr.commit()
    drain_start_dt = fields.Datetime.now()
    job_runs, drain_s, log = drain(env, cron, reachable.ids, reachable_n)
finally:
    config["limit_time_real_cron"] = saved_limit

# -- what the outbox says --------------------------------------------------------

env.cr.execute(
    "SELECT connection_id, min(date_done), max(date_done), count(*) "
    "FROM k2k_message WHERE connection_id IN %s AND message_type = 'invoice' "
    "AND state = 'applied' GROUP BY connection_id",
    [tuple(reachable.ids)],
)
per_partner = env.cr.fetchall()


def since_start(when):
    return max((when - drain_start_dt).total_seconds(), 0.0)


first_bill = [since_start(first) for _c, first, _l, _n in per_partner]
last_bill = [since_start(last) for _c, _f, last, _n in per_partner]
# In queue order (the connections' order): who finished first, and why.
last_by_connection = {c: since_start(last) for c, _f, last, _n in per_partner}
bills = env["account.move"].search_count(
    [("k2k_connection_id", "in", reachable.ids), ("move_type", "=", "in_invoice")]
)
env.cr.execute(
    "SELECT count(*), count(*) FILTER (WHERE state = 'queued'), "
    "count(*) FILTER (WHERE state = 'queued' AND next_attempt_date > %s), "
    "count(*) FILTER (WHERE state = 'applied'), "
    "coalesce(sum(attempt_count), 0), coalesce(max(attempt_count), 0), "
    "count(*) FILTER (WHERE attempt_count > 0), min(next_attempt_date) "
    "FROM k2k_message WHERE connection_id = %s AND message_type = 'invoice'",
    [fields.Datetime.now(), down_connection.id],
)
(
    down_n,
    down_queued,
    down_waiting,
    down_applied,
    down_attempts,
    down_rounds,
    down_tried,
    down_next,
) = env.cr.fetchone()
env.cr.execute(
    "SELECT state, count(*) FROM k2k_message WHERE connection_id IN %s "
    "AND message_type = 'invoice' GROUP BY state",
    [tuple(reachable.ids)],
)
reachable_states = dict(env.cr.fetchall())

runs = {}
for lastcall, began, seconds in job_runs:
    first, end = runs.get(lastcall, (began, began))
    runs[lastcall] = (first, max(end, began + seconds))
run_seconds = [end - first for first, end in runs.values()]
calls = log.seconds
median_last = statistics.median(last_bill) if last_bill else None
result = {
    "bench": "backlog",
    "impl": "k2k_network",
    "n": N,
    "partners": PARTNERS,
    "reachable_partners": len(reachable),
    "lines": bench.LINES,
    "cron_limit_s": LIMIT,
    "run_budget_s": budget_s,
    "batch_size": batch_size,
    "retry_base_s": retry_base_s,
    "setup_s": setup_s,
    "setup_companies_s": companies_s,
    "setup_create_s": create_s,
    "setup_post_s": post_s,
    "others_due_at_start": foreign_due,
    "drained": drain_s is not None,
    "drain_s": drain_s,
    "invoices_per_s": reachable_n / drain_s if drain_s else None,
    "bills": bills,
    "reachable_messages": reachable_n,
    "reachable_states": reachable_states,
    "calls": len(calls),
    "call_failures": log.failures,
    "max_call_s": max(calls, default=None),
    "median_call_s": statistics.median(calls) if calls else None,
    "job_runs": len(job_runs),
    "max_job_run_s": max((s for _l, _b, s in job_runs), default=None),
    "runs": len(runs),
    "max_run_s": max(run_seconds, default=None),
    "first_bill_max_s": max(first_bill, default=None),
    "last_bill_s": {
        "min": min(last_bill, default=None),
        "median": median_last,
        "max": max(last_bill, default=None),
    },
    "spread_max_over_median": max(last_bill) / median_last if median_last else None,
    "last_bill_spread_s": max(last_bill) - min(last_bill) if last_bill else None,
    "first_call_s": calls[0] if calls else None,
    "last_bill_by_partner_s": [last_by_connection.get(c) for c in reachable.ids],
    "down": {
        "messages": down_n,
        "queued": down_queued,
        "waiting_with_next_attempt": down_waiting,
        "applied": down_applied,
        "attempts": down_attempts,
        "attempt_rounds": down_rounds,
        "messages_tried": down_tried,
        "next_attempt": fields.Datetime.to_string(down_next) if down_next else None,
        # Attempts the back-off allows in the drain: at 0, base, 3 base, 7 base...
        "attempt_rounds_allowed": 1 + int(math.log2(1 + (drain_s or 0) / retry_base_s)),
    },
    "date": datetime.date.today().isoformat(),
}
bench.save_result(env, result)

# -- clean up: nothing of this run stays queued ------------------------------------

(down_connection | reachable).unlink()
env.cr.commit()
