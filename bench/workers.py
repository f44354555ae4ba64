"""k2k_network with more than one worker: how long one backlog takes to
drain by Odoo's scheduled action alone, and through the optional bridge
k2k_network_queue_job with one and with two jobs at a time.

Run by bench/run.sh with the Odoo venv's Python. For each mode, a copy of
the benchmark's template database; one vendor and two buyer companies
connected in the database (the set-up of tests_integration/test_queue_job.py,
not timed: purchase orders, K2K orders, draft invoices); one server run as
users deploy it at scale (prefork workers, scheduled actions on; with the
bridge, queue_job loaded server wide and its channel capacity set). The
clock runs from the one call that posts every invoice until every invoice
message is applied (its bill made at its buyer).
"""

import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests_integration"))

from conftest import OdooCli  # noqa: E402
from remote_network import OdooServer, wait_until  # noqa: E402
from test_queue_job import BRIDGE, SETUP, _marked  # noqa: E402

PORT = 8185
BATCH_SIZE = 20
# One more worker than jobs at a time: the PDFs' style sheets are served by
# the server itself (see k2k_network_queue_job's USAGE).
WORKERS = 3
MODES = (
    # (name, bridge installed, jobs at a time)
    ("core scheduled action", False, 0),
    ("queue_job, 1 job at a time", True, 1),
    ("queue_job, 2 jobs at a time", True, 2),
)


def _applied(server):
    return server.cli.query(
        server.db,
        "SELECT count(*) FROM k2k_message "
        "WHERE message_type = 'invoice' AND state = 'applied'",
    )[0][0]


def run_mode(cli, template, n, name, bridge, capacity, log_dir):
    server = OdooServer(cli, "k2k_bench_workers", PORT, log_dir)
    try:
        server.create_from(template)
        if bridge:
            cli.run(server.db, "-i", BRIDGE, "--stop-after-init")
        server.set_param("k2k_network.batch_size", str(BATCH_SIZE))
        setup = _marked(
            cli.shell(server.db, SETUP % {"per_buyer": n // 2}), "QJ_SETUP "
        )
        extra_args, extra_env = [], {}
        if bridge:
            extra_args = ["--load=base,web,queue_job"]
            extra_env = {"ODOO_QUEUE_JOB_CHANNELS": f"root:{capacity}"}
        server.start(workers=WORKERS, extra_args=extra_args, extra_env=extra_env)
        invoices = setup["invoices"]
        start = time.perf_counter()
        server.call("account.move", "action_post", invoices)
        wait_until(
            lambda: _applied(server) >= len(invoices),
            1200,
            f"{name}: every invoice applied",
            interval=0.2,
        )
        seconds = time.perf_counter() - start
        return {
            "bench": "workers",
            "impl": "k2k_network",
            "mode": name,
            "capacity": capacity,
            "n": len(invoices),
            "drain_s": seconds,
            "invoices_per_s": len(invoices) / seconds,
        }
    finally:
        server.stop()
        server.drop()


def main(n, template, out):
    cli = OdooCli()
    log_dir = tempfile.mkdtemp(prefix="k2k-bench-workers-")
    for name, bridge, capacity in MODES:
        result = run_mode(cli, template, n, name, bridge, capacity, log_dir)
        with open(out, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(result) + "\n")
        print(json.dumps(result))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
