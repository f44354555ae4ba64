"""The optional bridge k2k_network_queue_job, on a real server run as it is
deployed: prefork workers, queue_job loaded server wide, its job runner on a
channel of capacity 2, the scheduled actions on.

In one database, one vendor company and two buyer companies connected in
the database; twenty-four invoices posted at once. Every invoice becomes one bill
at its buyer, every message is applied, and the two connections' jobs ran at
the same time. The bridge is installed here only, in a copy of the suite's
template: the rest of the suite drains the outbox with the core's scheduled
action.

K2K_QJ_CAPACITY (default 2) sets how many jobs run at a time: with 1, the
test checks that no two jobs overlapped instead, and both runs print the
time the backlog took to drain.
"""

import json
import os
import time

import polib
import psycopg2
import pytest
from remote_network import OdooServer, wait_until

BRIDGE = "k2k_network_queue_job"
INVOICES_PER_BUYER = 12
BATCH_SIZE = 3
CAPACITY = int(os.environ.get("K2K_QJ_CAPACITY", "2"))
WORKERS = int(os.environ.get("K2K_QJ_WORKERS", str(CAPACITY + 1)))
# The bridge's advisory lock: (DELIVERY_LOCK_CLASS, connection id), held by
# a delivery job for its whole transaction.
DELIVERY_LOCK_CLASS = 0x4B324B51
JOB_METHOD = "_k2k_queue_deliver"

SETUP = """
import json
# The bridge, installed as from the Apps menu: Odoo loads the database anew.
env["ir.module.module"].search([("name", "=", %(bridge)r)]).button_immediate_install()
env = odoo.api.Environment(env.cr, env.uid, dict(env.context, tracking_disable=True))
vendor = env.ref("base.main_company")
buyers = env["res.company"]
for name in ("Petal Queue Wholesale", "Stem Queue Florists"):
    company = env["res.company"].create({"name": name})
    env["account.chart.template"].try_loading(
        "generic_coa", company, install_demo=False
    )
    if not env["stock.warehouse"].search([("company_id", "=", company.id)]):
        env["stock.warehouse"].create(
            {"company_id": company.id, "name": name, "code": name[:5]}
        )
    buyers |= company
env.user.company_ids |= vendor | buyers
env = env(context=dict(env.context, allowed_company_ids=[vendor.id, *buyers.ids]))
vendor = vendor.with_env(env)
vendor.k2k_invoice_sync_enabled = True
products = env["product.product"].create([
    {"name": f"Queue rose {i}", "default_code": f"QR-{i}", "type": "consu",
     "invoice_policy": "order", "purchase_method": "purchase", "list_price": 1 + i}
    for i in range(3)
])
connections = {}
sale_orders = env["sale.order"]
for buyer in buyers.with_env(env):
    buyer.k2k_invoice_upload_enabled = True
    connection = env["k2k.connection"].create(
        {"vendor_company_id": vendor.id, "buyer_company_id": buyer.id}
    )
    connection.sudo().state = "active"
    connections[buyer.id] = connection.id
    orders = env["purchase.order"].with_company(buyer).create([
        {"partner_id": vendor.partner_id.id, "company_id": buyer.id,
         "order_line": [(0, 0, {"product_id": p.id, "product_qty": 10 + n,
                                "price_unit": 1.0 + i})
                        for i, p in enumerate(products)]}
        for n in range(%(per_buyer)d)
    ])
    for order in orders:
        order.button_confirm()  # the K2K order reaches the vendor at once
    sale_orders |= orders.k2k_sale_order_id
assert len(sale_orders) == 2 * %(per_buyer)d, sale_orders
sale_orders = sale_orders.with_company(vendor)
sale_orders.action_confirm()
# The vendor's answers to the orders go now: the backlog is the invoices.
env["k2k.message"].search([("state", "=", "queued")])._k2k_send()
invoices = sale_orders._create_invoices(grouped=True)
assert len(invoices) == 2 * %(per_buyer)d, invoices
env.cr.commit()
print("QJ_SETUP " + json.dumps({
    "invoices": invoices.ids,
    "connections": connections,
}))
"""

IDENTITY_CHECK = """
import json
Message = env["k2k.message"]
Job = env["queue.job"]
first, second = env["k2k.connection"].browse(%(connections)s)


def invoices_of(connection):
    sent = Message.search(
        [("message_type", "=", "invoice"), ("connection_id", "=", connection.id)]
    )
    return env["account.move"].browse(sent.mapped("res_id"))


first_invoices, second_invoices = invoices_of(first), invoices_of(second)

def waiting(connection):
    return Job.search_count([
        ("identity_key", "=", connection._k2k_queue_identity_key()),
        ("state", "in", ("wait_dependencies", "pending", "enqueued")),
    ])

counts = {"before": [waiting(first), waiting(second)]}
# A message queued for the first connection: the scheduled action hands it
# to one job.
Message._k2k_enqueue(first, "invoice", first_invoices[0])
Message._cron_process_messages()
counts["after_first"] = [waiting(first), waiting(second)]
# More of its messages, while that job waits: still one job.
Message._k2k_enqueue(first, "invoice", first_invoices[1])
Message._cron_process_messages()
first._k2k_queue_delay_delivery()
counts["after_more"] = [waiting(first), waiting(second)]
# The other connection gets a job of its own.
Message._k2k_enqueue(second, "invoice", second_invoices[0])
Message._cron_process_messages()
counts["after_other"] = [waiting(first), waiting(second)]
# A job that finds its connection's delivery held by another transaction
# steps back (to run again shortly), and delivers once it is free.
from odoo.addons.queue_job.exception import RetryableJobError
with env.registry.cursor() as other:
    other.execute("SELECT pg_advisory_xact_lock(%(lock_class)d, %%s)", [first.id])
    try:
        first._k2k_queue_deliver()
        counts["while_held"] = "delivered"
    except RetryableJobError:
        counts["while_held"] = "retry"
    other.rollback()
counts["when_free"] = first._k2k_queue_deliver()
print("QJ_IDENTITY " + json.dumps(counts))
env.cr.rollback()
"""


UNINSTALL = """
import json
Message = env["k2k.message"]
connection = env["k2k.connection"].browse(%(connection)d)
message = Message._k2k_enqueue(
    connection, "invoice", env["account.move"].browse(%(invoice)d)
)
Message._cron_process_messages()  # a job, that will never run
env.cr.commit()
env["ir.module.module"].search(
    [("name", "=", "k2k_network_queue_job")]
).button_immediate_uninstall()
env.cr.commit()
# Odoo has loaded the database anew, without the bridge, in this process (as
# a server does after an uninstall from the Apps menu), and env with it: the
# core's scheduled action delivers.
env["k2k.message"]._cron_process_messages()
env.cr.commit()
print("QJ_UNINSTALL " + json.dumps({"message": message.id}))
"""

SPANISH = """
import json
# The bridge's terms, as --i18n-export writes its template.
with open(%(exported)r, "wb") as template:
    odoo.tools.translate.trans_export("", [%(bridge)r], template, "po", env.cr)
env["res.lang"]._activate_lang("es_ES")
env["ir.module.module"]._load_module_terms([%(bridge)r], ["es_ES"], overwrite=True)
connection = env["k2k.connection"].browse(%(connection)d).with_context(lang="es_ES")
env["queue.job"].search(
    [("identity_key", "=", connection._k2k_queue_identity_key())]
).unlink()
connection._k2k_queue_delay_delivery()
job = env["queue.job"].search(
    [("identity_key", "=", connection._k2k_queue_identity_key())]
)
print("QJ_SPANISH " + json.dumps({
    "job": job.name,
    "connection": connection.display_name,
    "result": connection._k2k_queue_deliver(),
}))
env.cr.rollback()
"""


def _marked(output, marker):
    [line] = [line for line in output.splitlines() if line.startswith(marker)]
    return json.loads(line[len(marker) :])


@pytest.fixture(scope="module")
def queue_network(odoo_cli, tmp_path_factory):
    template = os.environ.get("K2K_E2E_TEMPLATE")
    if not template:
        pytest.fail("K2K_E2E_TEMPLATE is not set: run through ./scripts/test.sh")
    log_dir = tmp_path_factory.mktemp("queue_job_server")
    server = OdooServer(odoo_cli, "k2k_qj_network", 8191, log_dir)
    try:
        server.create_from(template)
        server.set_param("k2k_network.batch_size", str(BATCH_SIZE))
        setup = _marked(
            odoo_cli.shell(
                server.db, SETUP % {"bridge": BRIDGE, "per_buyer": INVOICES_PER_BUYER}
            ),
            "QJ_SETUP ",
        )
        # As users deploy it: queue_job server wide, prefork workers (one
        # more than jobs at a time: the invoice PDFs' style sheets are served
        # by the server itself), the job runner's channels, scheduled
        # actions on (the one that hands due messages to jobs).
        server.start(
            workers=WORKERS,
            # Odoo's default limits (60 s of CPU, 120 s in all per request)
            # are for a server alone on its machine; here the other test
            # worker shares the CPU, and one request posts 24 invoices.
            extra_args=[
                "--load=base,web,queue_job",
                "--limit-time-cpu=600",
                "--limit-time-real=600",
            ],
            extra_env={"ODOO_QUEUE_JOB_CHANNELS": f"root:{CAPACITY}"},
        )
        yield {"server": server, **setup}
    finally:
        server.stop()
        errors = server.errors_in_log()
        server.drop()
    assert not errors, "\n".join(errors)


class Sampler:
    """Reads the database while the backlog drains: how many invoice
    messages are applied, and which connections' delivery locks are held at
    this instant (a job holds its connection's for its whole run)."""

    def __init__(self, server):
        self.conn = psycopg2.connect(dbname=server.db, user=server.cli.db_user)
        self.conn.autocommit = True
        self.max_connections_at_once = 0

    def applied(self):
        with self.conn.cursor() as cr:
            cr.execute(
                "SELECT count(DISTINCT objid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND granted AND classid = %s "
                "AND objsubid = 2 AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())",
                [DELIVERY_LOCK_CLASS],
            )
            held = cr.fetchone()[0]
            self.max_connections_at_once = max(self.max_connections_at_once, held)
            cr.execute(
                "SELECT count(*) FROM k2k_message "
                "WHERE message_type = 'invoice' AND state = 'applied'"
            )
            return cr.fetchone()[0]

    def close(self):
        self.conn.close()


def _overlapping_jobs(jobs):
    """Pairs of jobs of two connections that ran at the same time. The dates
    are stored to the second, cut down: a job that started after another
    ended never reads as starting before it, so a pair found here did
    overlap."""
    return [
        (a["uuid"], b["uuid"])
        for i, a in enumerate(jobs)
        for b in jobs[i + 1 :]
        if a["identity_key"] != b["identity_key"]
        and a["date_started"] < b["date_done"]
        and b["date_started"] < a["date_done"]
    ]


@pytest.fixture(scope="module")
def drained(queue_network):
    """The setup's 24 invoices posted at once, and their backlog drained:
    how long it took, and how many connections delivered at once at most.
    The tests after the first find the invoices sent."""
    server = queue_network["server"]
    invoices = queue_network["invoices"]
    sampler = Sampler(server)
    try:
        server.call("account.move", "action_post", invoices)
        posted = time.monotonic()
        wait_until(
            lambda: sampler.applied() == len(invoices),
            600,
            "every invoice message applied",
            interval=0.05,
        )
        seconds = time.monotonic() - posted
    finally:
        sampler.close()
    # A job that found its connection busy runs again seconds later, and a
    # job is marked done after the commit that applied its messages.
    wait_until(
        lambda: not server.cli.query(
            server.db,
            "SELECT 1 FROM queue_job WHERE method_name = %s "
            "AND state NOT IN ('done', 'failed', 'cancelled')",
            [JOB_METHOD],
        ),
        60,
        "no delivery job left to run",
    )
    return {
        "seconds": seconds,
        "max_connections_at_once": sampler.max_connections_at_once,
    }


def test_two_workers_bill_each_invoice_once(queue_network, drained):
    net = queue_network
    server = net["server"]
    invoices = net["invoices"]
    total = len(invoices)

    # Exactly one bill per invoice, at the invoice's buyer.
    messages = server.cli.query(
        server.db,
        "SELECT m.document_uid, m.state, c.buyer_company_id FROM k2k_message m "
        "JOIN k2k_connection c ON c.id = m.connection_id "
        "WHERE m.message_type = 'invoice' AND m.res_id = ANY(%s)",
        [invoices],
    )
    assert len(messages) == total, messages
    assert {state for _uid, state, _buyer in messages} == {"applied"}, messages
    bills = server.cli.query(
        server.db,
        "SELECT k2k_document_uid, company_id, count(*) FROM account_move "
        "WHERE move_type = 'in_invoice' AND k2k_document_uid = ANY(%s) "
        "GROUP BY 1, 2",
        [[uid for uid, _state, _buyer in messages]],
    )
    assert sorted(bills) == sorted(
        (uid, buyer, 1) for uid, _state, buyer in messages
    ), bills
    per_buyer = {}
    for _uid, buyer, _count in bills:
        per_buyer[buyer] = per_buyer.get(buyer, 0) + 1
    assert sorted(per_buyer.values()) == [INVOICES_PER_BUYER] * 2, per_buyer

    # The jobs: all done, several per connection (one batch each), and the
    # two connections' jobs at the same time.
    rows = server.cli.query(
        server.db,
        "SELECT uuid, state, identity_key, date_started, date_done, worker_pid, "
        "channel "
        "FROM queue_job WHERE method_name = %s ORDER BY id",
        [JOB_METHOD],
    )
    jobs = [
        dict(
            zip(
                (
                    "uuid",
                    "state",
                    "identity_key",
                    "date_started",
                    "date_done",
                    "pid",
                    "channel",
                ),
                row,
                strict=True,
            )
        )
        for row in rows
    ]
    assert {job["state"] for job in jobs} == {"done"}, jobs
    assert {job["channel"] for job in jobs} == {"root.k2k"}, jobs
    assert len({job["identity_key"] for job in jobs}) == 2, jobs
    # Each connection's twelve invoices in batches of three: four jobs at
    # least (a job that found its connection busy ran again, counted once).
    assert len(jobs) >= 2 * INVOICES_PER_BUYER // BATCH_SIZE, jobs
    overlapping = _overlapping_jobs(jobs)
    span = max(job["date_done"] for job in jobs) - min(
        job["date_started"] for job in jobs
    )
    print(
        f"\nqueue_job capacity {CAPACITY}: {total} invoices drained in "
        f"{drained['seconds']:.1f} s after posting "
        f"(jobs' span {span.total_seconds():.0f} s), "
        f"{len(jobs)} jobs, worker pids {sorted({job['pid'] for job in jobs})}, "
        f"at most {drained['max_connections_at_once']} connections delivering at "
        f"once, {len(overlapping)} overlapping job pairs"
    )
    if CAPACITY >= 2:
        assert drained["max_connections_at_once"] >= 2
        assert overlapping, jobs
        assert len({job["pid"] for job in jobs}) >= 2, jobs
    else:
        assert drained["max_connections_at_once"] == 1
        assert not overlapping, overlapping


def test_one_waiting_job_per_connection(queue_network, drained):
    """queue_job's identity key: queuing more messages for a connection
    whose job still waits adds no second job; another connection gets its
    own. A job never delivers a connection another job holds. In a
    transaction rolled back, against the same database."""
    net = queue_network
    connections = sorted(net["connections"].values())
    output = net["server"].cli.shell(
        net["server"].db,
        IDENTITY_CHECK
        % {"connections": connections, "lock_class": DELIVERY_LOCK_CLASS},
    )
    counts = _marked(output, "QJ_IDENTITY ")
    assert counts == {
        "before": [0, 0],
        "after_first": [1, 0],
        "after_more": [1, 0],
        "after_other": [1, 1],
        "while_held": "retry",
        "when_free": "2 message(s) delivered, 0 still due.",
    }, counts


def test_bridge_speaks_spanish(queue_network, tmp_path):
    """The bridge's terms: its template matches the code (a string added
    without ./scripts/update-pot.sh fails here), each has its Spanish, and a
    Spanish user reads the job and its result in Spanish."""
    server = queue_network["server"]
    module_dir = os.path.join(os.path.dirname(__file__), "..", BRIDGE, "i18n")
    exported = tmp_path / f"{BRIDGE}.pot"
    output = server.cli.shell(
        server.db,
        SPANISH
        % {
            "bridge": BRIDGE,
            "connection": min(queue_network["connections"].values()),
            "exported": str(exported),
        },
    )
    fresh = {entry.msgid for entry in polib.pofile(str(exported)) if entry.msgid}
    committed = polib.pofile(os.path.join(module_dir, f"{BRIDGE}.pot"))
    assert fresh, "the export found no term at all"
    assert fresh == {
        entry.msgid for entry in committed
    }, f"{BRIDGE}.pot is out of date: run ./scripts/update-pot.sh"
    spanish = polib.pofile(os.path.join(module_dir, "es.po"))
    assert {entry.msgid for entry in spanish.translated_entries()} == fresh
    spoken = _marked(output, "QJ_SPANISH ")
    assert spoken["job"] == (
        f"K2K: entregar los mensajes en cola de {spoken['connection']}"
    ), spoken
    assert spoken["result"] == "0 mensaje(s) entregado(s), 0 pendiente(s).", spoken


def test_uninstall_gives_the_outbox_back(queue_network, drained):
    """Uninstalled, the bridge leaves no job waiting, and the core's
    scheduled action delivers by itself again."""
    net = queue_network
    server = net["server"]
    server.stop()
    first = min(net["connections"].values())
    output = server.cli.shell(
        server.db,
        UNINSTALL % {"connection": first, "invoice": net["invoices"][0]},
    )
    message = _marked(output, "QJ_UNINSTALL ")["message"]
    assert server.cli.query(
        server.db, "SELECT state FROM ir_module_module WHERE name = %s", [BRIDGE]
    ) == [("uninstalled",)]
    assert server.cli.query(
        server.db,
        "SELECT state, count(*) FROM queue_job WHERE method_name = %s "
        "AND state NOT IN ('done') GROUP BY 1",
        [JOB_METHOD],
    ) == [("cancelled", 1)]
    assert server.cli.query(
        server.db, "SELECT state FROM k2k_message WHERE id = %s", [message]
    ) == [("applied",)]
