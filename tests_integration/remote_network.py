"""Two real Odoo servers on loopback, each with its own database, for the
K2K network across databases: started, driven over JSON-RPC as their
administrators would, stopped and started again."""

import importlib
import os
import re
import subprocess
import sys
import time
import types
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import psycopg2
import requests

ADDON_DIR = Path(__file__).resolve().parent.parent / "k2k_network"
# The id of the K2K scheduled action, in a database's own SQL.
K2K_ACTION_ID = (
    "SELECT res_id FROM ir_model_data WHERE model = 'ir.cron' "
    "AND module = 'k2k_network' AND name = 'ir_cron_k2k_process_messages'"
)


def load_addon_module(name):
    """A module of the addon that imports nothing of Odoo (the protocol, its
    value rules, the partner double of its tests), loaded on its own so that
    these tests sign exactly as the addon does: the addon's folder and its
    tests' folder stand for bare packages (their ``__init__`` would import
    Odoo)."""
    for package_name, path in (
        ("k2k_wire_package", ADDON_DIR),
        ("k2k_wire_package.tests", ADDON_DIR / "tests"),
    ):
        package = types.ModuleType(package_name)
        package.__path__ = [str(path)]
        sys.modules.setdefault(package_name, package)
    return importlib.import_module(f"k2k_wire_package.{name}")


def load_wire():
    return load_addon_module("wire")


class RpcError(Exception):
    pass


class SessionExpired(RpcError):
    pass


def wait_until(predicate, timeout, what, interval=0.25):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not true after {timeout} s (last: {last!r})")


class OdooServer:
    """One Odoo server for one database, on 127.0.0.1:<port>."""

    def __init__(self, cli, db, port, log_dir):
        self.cli = cli
        self.db = db
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.logfile = Path(log_dir) / f"{db}.log"
        self.dbuuid = str(uuid.uuid1())
        self.process = None
        # [asked, ended]: each time the server was asked to stop, by the
        # clock its log keeps; ended None while it is stopping.
        self.shutdowns = []
        # The administrator's web session (its cookie), once logged in.
        self.session_id = None

    # -- database -----------------------------------------------------------

    def execute(self, sql, params=None):
        conn = psycopg2.connect(dbname=self.db, user=self.cli.db_user)
        try:
            with conn, conn.cursor() as cr:
                cr.execute(sql, params)
        finally:
            conn.close()

    def query_all(self, sql, params=None):
        return self.cli.query(self.db, sql, params)

    def set_param(self, key, value):
        self.execute(
            "INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (key, value),
        )

    def create_from(self, template):
        """A copy of the template database with an identity of its own
        (Odoo's database.uuid names the sender of every K2K document)."""
        self.cli.copy(template, self.db)
        self.set_param("database.uuid", self.dbuuid)
        self.set_param("database.secret", str(uuid.uuid4()))
        self.set_param("web.base.url", self.url)
        self.set_param("web.base.url.freeze", "True")
        # The two servers talk over plain http on loopback ports: allowed
        # only where this setting says so.
        self.set_param("k2k_network.allow_http", "1")
        # Retries within a second or two (Odoo keeps whole seconds), so
        # that a test sees several, and a partner back on its feet is tried
        # again soon.
        self.set_param("k2k_network.retry_base_seconds", "1")
        self.set_param("k2k_network.retry_max_seconds", "2")
        # No ordinary delivery may time out, even with the other test workers
        # loading the CPU: a resent batch would upset the tests' counts.
        self.set_param("k2k_network.http_timeout", "60")
        # Odoo's other scheduled actions (the mail queue, the vacuum, the
        # procurement scheduler, the website's unused assets...) are all due
        # in a fresh copy: each server would run them all at its first
        # start, ahead of the K2K action the tests wait for, and one still
        # running when a test stops its server logs an error. The servers
        # here run the K2K action alone.
        self.execute(f"UPDATE ir_cron SET active = false WHERE id <> ({K2K_ACTION_ID})")

    def drop(self):
        self.cli.drop(self.db)

    def switch_k2k_action(self, active):
        """Switch the K2K scheduled action on or off, as its Active box
        does. Switched on, it is due at once (while it was off, Odoo dropped
        the triggers that asked for a run now), and the scheduler is woken.
        Switched off, a run under way ends first: it holds the action's
        row."""
        self.execute(
            "UPDATE ir_cron SET active = %s, nextcall = CASE WHEN %s "
            "THEN now() AT TIME ZONE 'UTC' ELSE nextcall END "
            f"WHERE id = ({K2K_ACTION_ID})",
            (active, active),
        )
        if active:
            self.wake_cron()

    def run_k2k_action(self):
        """One run of the K2K scheduled action, as its Run Manually button
        makes it (switched off or not)."""
        [(action_id,)] = self.query_all(K2K_ACTION_ID)
        self.call("ir.cron", "method_direct_trigger", [action_id])

    # -- process ------------------------------------------------------------

    def start(self, workers=0, extra_args=(), extra_env=None):
        """Start the server and wait until it answers: threaded by default,
        or ``workers`` processes (prefork); ``extra_args`` and ``extra_env``
        add to its command line and environment."""
        self.launch(workers, extra_args, extra_env)
        self.wait_until_ready()

    def launch(self, workers=0, extra_args=(), extra_env=None):
        """Start the server's process, without waiting for it (see
        ``start``)."""
        args = self.cli.base_args(self.db, command="server") + [
            f"--db-filter=^{self.db}$",
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            f"--workers={workers}",
            "--max-cron-threads=1",
            f"--logfile={self.logfile}",
            *extra_args,
        ]
        # Wake the scheduled action at once when a retry is planned, so the
        # test does not wait for the cron's one-minute nap.
        env = dict(os.environ, ODOO_NOTIFY_CRON_CHANGES="1", **(extra_env or {}))
        self.process = subprocess.Popen(
            args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait_until_ready(self):
        """Wait until the launched server answers."""
        wait_until(self._healthy, 120, f"{self.db} server answers", interval=0.1)
        # Odoo reads every module's manifest at the first request whose path
        # could be a static file, in whichever thread serves it. When that is
        # wkhtmltopdf fetching a report's styles, several threads read them
        # at once, and CPython 3.11.7 may fail parsing one ("AST constructor
        # recursion depth mismatch"). One such request first, alone.
        requests.get(f"{self.url}/web/static/img/favicon.ico", timeout=120)

    def _healthy(self):
        if self.process.poll() is not None:
            raise AssertionError(
                f"{self.db} server exited: {self.logfile.read_text()[-3000:]}"
            )
        try:
            return requests.get(f"{self.url}/web/health", timeout=2).ok
        except requests.RequestException:
            return False

    @property
    def running(self):
        """Whether the server's process is up (started, not stopped, not
        dead)."""
        return self.process is not None and self.process.poll() is None

    def stop(self):
        self.ask_to_stop()
        self.wait_stopped()

    def ask_to_stop(self):
        """Ask the server to end (SIGTERM, once: Odoo ends at once, without
        its shutdown, at a second one)."""
        stopping = self.shutdowns and self.shutdowns[-1][1] is None
        if self.running and not stopping:
            self.shutdowns.append([datetime.now(), None])
            self.process.terminate()

    def wait_stopped(self):
        """Wait until the server asked to stop ended; kill it after 30 s."""
        if self.process is not None:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            if self.shutdowns and self.shutdowns[-1][1] is None:
                self.shutdowns[-1][1] = datetime.now()
        self.process = None

    def errors_in_log(self):
        """The log's ERROR and CRITICAL records, but for serialization
        failures: two transactions wrote the same row at once, PostgreSQL
        refused the second, and Odoo ran it again (a request), or the outbox
        deferred its message to the next run (the scheduled action). Odoo
        logs the refused query as an error all the same. Nor the query of a
        scheduler thread whose connection the server closed as it stopped:
        every wake-up of the cluster's scheduled actions (``wake_cron``, by
        any server of any test) sets every server's scheduler looking for
        due jobs, and Odoo's shutdown does not wait for that thread."""
        if not self.logfile.exists():
            return []
        records = re.split(r"\n(?=\d{4}-\d{2}-\d{2} )", self.logfile.read_text())
        return [
            record.splitlines()[0]
            for record in records
            if (" ERROR " in record.split("\n", 1)[0] or " CRITICAL " in record)
            and not (
                "bad query" in record
                and "could not serialize access due to concurrent update" in record
            )
            and not (
                "bad query" in record
                and "cursor already closed" in record
                and self._logged_while_stopping(record)
            )
        ]

    def _logged_while_stopping(self, record):
        """Whether ``record`` was logged between a request to stop and the
        end of the process (its time has milliseconds; a second's leeway)."""
        logged = datetime.strptime(record[:23], "%Y-%m-%d %H:%M:%S,%f")
        leeway = timedelta(seconds=1)
        return any(
            asked - leeway <= logged <= (ended or datetime.now()) + leeway
            for asked, ended in self.shutdowns
        )

    # -- JSON-RPC as the administrator --------------------------------------

    def call(self, model, method, *args, **kwargs):
        """``model.method(*args, **kwargs)`` as the administrator, in a web
        session of his (the web client's own route): the password is checked
        once per server, where a call with the password in it is checked
        again after every clearing of Odoo's caches (a setting written, a
        server started), at 600,000 rounds of PBKDF2 each time."""
        params = {
            "model": model,
            "method": method,
            "args": list(args),
            "kwargs": kwargs,
        }
        if self.session_id is None:
            self.session_id = self._log_in()
        try:
            return self._post_json("/web/dataset/call_kw", params)
        except SessionExpired:
            # Its file gone from the session store, or its token no longer
            # the database's (another database.secret, another password):
            # in again, once.
            self.session_id = self._log_in()
            return self._post_json("/web/dataset/call_kw", params)

    def _log_in(self):
        response = requests.post(
            f"{self.url}/web/session/authenticate",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"db": self.db, "login": "admin", "password": "admin"},
            },
            timeout=180,
        )
        body = response.json()
        if "error" in body or not body["result"].get("uid"):
            raise RpcError(f"{self.db}: the administrator cannot log in: {body}")
        return response.cookies["session_id"]

    def _post_json(self, path, params):
        response = requests.post(
            f"{self.url}{path}",
            json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params},
            cookies={"session_id": self.session_id},
            timeout=180,
        )
        body = response.json()
        if "error" in body:
            data = body["error"]["data"]
            if data.get("name") == "odoo.http.SessionExpiredException":
                raise SessionExpired(data["message"])
            raise RpcError(data["message"])
        return body.get("result")

    def read_one(self, model, record_id, fields):
        return self.call(model, "read", [record_id], fields)[0]

    def search_read(self, model, domain, fields, **kwargs):
        return self.call(model, "search_read", domain, fields, **kwargs)

    def count(self, model, domain=()):
        return self.call(model, "search_count", list(domain))

    # -- crashes ------------------------------------------------------------

    def kill(self):
        """End the server as a power cut would: no signal handler, no
        rollback, no answer to whoever is waiting."""
        self.process.kill()
        self.process.wait()

    def wake_cron(self):
        """Wake the scheduled actions now rather than after their one-minute
        nap: the notification Odoo's own triggers send (on the cluster's
        ``postgres`` database, which every Odoo server of the cluster
        listens to; a server that is not listening yet misses it)."""
        conn = psycopg2.connect(dbname="postgres", user=self.cli.db_user)
        try:
            conn.autocommit = True
            with conn.cursor() as cr:
                cr.execute("SELECT pg_notify('cron_trigger', %s)", (self.db,))
        finally:
            conn.close()


def start_servers(*servers):
    """Start ``servers`` side by side (each loads Odoo while the others
    do), and return once all answer."""
    for server in servers:
        server.launch()
    for server in servers:
        server.wait_until_ready()


def stop_servers(*servers):
    """Stop ``servers`` side by side: each ends its threads while the
    others do."""
    for server in servers:
        server.ask_to_stop()
    for server in servers:
        server.wait_stopped()


def stop_and_drop(*servers):
    """Stop ``servers``, drop their databases, and fail with the errors
    their logs hold, if any."""
    stop_servers(*servers)
    errors = [error for server in servers for error in server.errors_in_log()]
    for server in servers:
        server.drop()
    assert not errors, "\n".join(errors)


def vendor_and_buyer(odoo_cli, name, port, log_dir, template):
    """A vendor's server (at ``port``) and a buyer's (at ``port + 1``),
    their databases ``k2k_<name>_vendor`` and ``k2k_<name>_buyer`` copied
    from ``template``; not started."""
    servers = [
        OdooServer(odoo_cli, f"k2k_{name}_{side}", port + offset, log_dir)
        for offset, side in enumerate(("vendor", "buyer"))
    ]
    try:
        for server in servers:
            server.create_from(template)
    except BaseException:
        for server in servers:
            server.drop()
        raise
    return servers


def template_database(odoo_cli):
    """A database with k2k_network installed and no demo data, to copy:
    the one ``./scripts/test.sh`` made for these tests, or one made here."""
    name = os.environ.get("K2K_E2E_TEMPLATE") or "k2k_e2e_template"
    exists = odoo_cli.query(
        "postgres", "SELECT 1 FROM pg_database WHERE datname = %s", [name]
    )
    if not exists:
        odoo_cli.run(
            name, "-i", "k2k_network", "--without-demo=all", "--stop-after-init"
        )
    return name


def join_network(vendor, buyer, vendor_name, buyer_name):
    """The vendor invites, the buyer joins with the code, through the
    addon's own routes; both servers' companies named and opted in.
    Return the two connection ids, the vendor's customer, the buyer's
    partner of the vendor and the invitation code."""
    vendor.call(
        "res.company",
        "write",
        [1],
        {"name": vendor_name, "k2k_invoice_sync_enabled": True},
    )
    buyer.call(
        "res.company",
        "write",
        [1],
        {"name": buyer_name, "k2k_invoice_upload_enabled": True},
    )
    connection, customer = vendor_connection_to(vendor, buyer_name)
    vendor.call("k2k.connection", "action_k2k_create_invitation", [connection])
    code = vendor.read_one("k2k.connection", connection, ["invitation_code"])[
        "invitation_code"
    ]
    buyer_connection = join_with_code(buyer, code)
    return {
        "vendor_connection": connection,
        "buyer_connection": buyer_connection,
        "vendor_customer": customer,
        "buyer_vendor_partner": buyer.read_one(
            "k2k.connection", buyer_connection, ["vendor_partner_id"]
        )["vendor_partner_id"][0],
        "code": code,
    }


def vendor_connection_to(vendor, buyer_name, **values):
    """A new connection over HTTP of the vendor's company to a new customer
    named ``buyer_name``, with ``values``; return its id and the
    customer's."""
    customer = vendor.call(
        "res.partner", "create", {"name": buyer_name, "is_company": True}
    )
    connection = vendor.call(
        "k2k.connection",
        "create",
        {
            "transport": "http",
            "local_role": "vendor",
            "vendor_company_id": 1,
            "buyer_partner_id": customer,
            **values,
        },
    )
    return connection, customer


def join_with_code(server, code):
    """Join with an invitation code as the administrator would; return the
    new connection's id."""
    wizard = server.call("k2k.invitation.wizard", "create", {"invitation_code": code})
    return server.call("k2k.invitation.wizard", "action_join", [wizard])["res_id"]


def make_k2k_products(vendor, buyer, buyer_vendor_partner, count=1):
    """Products the vendor sells under its internal reference, and the
    buyer's own products that name that reference as vendor code."""
    pairs = []
    for i in range(count):
        code = f"V-ROSE-{50 + i}"
        vendor_product = vendor.call(
            "product.product",
            "create",
            {
                "name": f"Rose Freedom {50 + i} cm",
                "default_code": code,
                "type": "consu",
                "list_price": 0.80,
                "invoice_policy": "order",
            },
        )
        buyer_product = buyer.call(
            "product.product",
            "create",
            {
                "name": f"Red Rose {50 + i}",
                "type": "consu",
                "seller_ids": [
                    (
                        0,
                        0,
                        {
                            "partner_id": buyer_vendor_partner,
                            "product_code": code,
                            "price": 0.80,
                        },
                    )
                ],
            },
        )
        pairs.append((vendor_product, buyer_product))
    return pairs


def confirm_k2k_orders(buyer, net, quantities, price=None):
    """Confirm one purchase order of the buyer (or of a copy of it) per
    quantity of ``quantities``, of the network's product at ``price`` (else
    the vendor's price list): each a K2K order. Return their names."""
    line = {"product_id": net["buyer_product"]}
    if price is not None:
        line["price_unit"] = price
    po_ids = buyer.call(
        "purchase.order",
        "create",
        [
            {
                "partner_id": net["buyer_vendor_partner"],
                "order_line": [(0, 0, dict(line, product_qty=quantity))],
            }
            for quantity in quantities
        ],
    )
    buyer.call("purchase.order", "button_confirm", po_ids)
    return [po["name"] for po in buyer.call("purchase.order", "read", po_ids, ["name"])]


def invoice_sale_orders(vendor, order_ids):
    """Confirm the vendor's sale orders ``order_ids`` and make one draft
    invoice per order, as a salesperson does with Create Invoice."""
    vendor.call("sale.order", "action_confirm", order_ids)
    context = {"active_model": "sale.order", "active_ids": order_ids}
    wizard = vendor.call(
        "sale.advance.payment.inv",
        "create",
        # Not consolidated: one invoice, one document to send, per order.
        {"advance_payment_method": "delivered", "consolidated_billing": False},
        context=context,
    )
    vendor.call(
        "sale.advance.payment.inv", "create_invoices", [wizard], context=context
    )
