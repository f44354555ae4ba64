"""No partner and no stranger stops the network, with real servers.

A vendor's Odoo sends invoices to four buyers at once: a healthy one (a
real Odoo server with its own database), and three bad ones that listen in
this process: one answers every request with a NUL byte in its error text,
one trickles its answer a byte at a time, one turns its automations on and
off at every answer. Meanwhile 50 strangers post to the healthy buyer's K2K
endpoint in parallel. Every invoice to the healthy buyer becomes a bill in
the vendor's first scheduled run, the scheduled action stays active, and the
healthy buyer's web shop answers within 2 s during the flood.
"""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer

import pytest
import requests
from remote_network import (
    invoice_sale_orders,
    join_network,
    load_addon_module,
    make_k2k_products,
    start_servers,
    stop_and_drop,
    template_database,
    vendor_and_buyer,
    vendor_connection_to,
    wait_until,
)

wire = load_addon_module("wire")
PartnerDouble = load_addon_module("tests.partner_double").PartnerDouble

KEY = wire.new_secret()
HEALTHY_INVOICES = 5
BAD_INVOICES = 3
STRANGERS = 50
# k2k_network.http_timeout at the vendor, in seconds: well above what the
# healthy buyer takes to answer (under the flood, beside the other test
# workers), well below the trickling partner's 50 s.
DEADLINE = 8
# Seconds before a failed delivery is tried again, doubled at each failure
# (up to a second less: Odoo keeps whole seconds).
RETRY_BASE = 1.5


class _BadPartner(PartnerDouble):
    """A partner's server that misbehaves as ``behaviour`` says: "nul",
    "trickle" or "flip"."""

    behaviour = None
    requests = None

    def do_POST(self):  # noqa: N802 - the name http.server calls
        body = self.read_body()
        self.requests.append(time.monotonic())
        getattr(self, f"_answer_{self.behaviour}")(body)

    def _answer_nul(self, _body):
        self.send_json(502, {"ok": False, "reason": "down\u0000\x07" * 500})

    def _answer_trickle(self, _body):
        self.trickle(100, 0.5)  # 50 s, if nobody gives up

    def _answer_flip(self, body):
        on = len(self.requests) % 2 == 0
        outcome = (
            {"outcome": "applied", "detail": "Taken."}
            if on
            else {"outcome": "waiting", "detail": "Upload is off."}
        )
        status = {
            "state": "active",
            "company": "Fickle Buyer",
            "settings": {key: on for key in wire.AUTOMATION_KEYS},
        }
        self.answer_outcome(KEY, body, outcome, status)


def _serve(behaviour):
    handler = type(
        f"Partner_{behaviour}", (_BadPartner,), {"behaviour": behaviour, "requests": []}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler, f"http://127.0.0.1:{server.server_address[1]}"


def _connect_bad_partner(vendor, name, url):
    """A connection of the vendor to a buyer in another database at ``url``,
    active, its keys given (no handshake: the bad partner has no Odoo)."""
    connection, customer = vendor_connection_to(
        vendor,
        name,
        remote_url=url,
        remote_database=f"{name.lower().replace(' ', '_')}_db",
        connection_uid=wire.new_uid(),
        inbound_key=KEY,
        outbound_key=KEY,
    )
    vendor.execute(
        "UPDATE k2k_connection SET state = 'active', remote_company_name = %s, "
        "remote_settings = %s WHERE id = %s",
        (name, json.dumps(dict.fromkeys(wire.AUTOMATION_KEYS, True)), connection),
    )
    return connection, customer


def _post_invoices(vendor, connection, customer, product, count):
    """``count`` invoices of K2K orders of ``connection``, posted; the
    orders made here as if the buyer had sent them (a bad partner has no
    Odoo to send them from)."""
    orders = [
        vendor.call(
            "sale.order",
            "create",
            {
                "partner_id": customer,
                "k2k_connection_id": connection,
                "k2k_document_uid": wire.new_uid(),
                "order_line": [
                    (0, 0, {"product_id": product, "product_uom_qty": 10 + i})
                ],
            },
        )
        for i in range(count)
    ]
    invoice_sale_orders(vendor, orders)
    invoices = [
        invoice
        for order in vendor.call("sale.order", "read", orders, ["invoice_ids"])
        for invoice in order["invoice_ids"]
    ]
    vendor.call("account.move", "action_post", invoices)
    return invoices


def _messages(vendor, connection):
    return vendor.search_read(
        "k2k.message",
        [("connection_id", "=", connection), ("message_type", "=", "invoice")],
        ["state", "error", "date_done"],
    )


def _flood(url, stop, answers):
    """Post without the K2K headers, again and again, until ``stop``."""
    # As large as a socket takes at once: the server answers before it
    # reads a byte of it, and a larger body would meet a closed door.
    body = b"x" * 16_384
    while not stop.is_set():
        try:
            response = requests.post(f"{url}/k2k/v1/messages", data=body, timeout=30)
            answers.append(response.status_code)
        except requests.RequestException as error:
            answers.append(repr(error))
        # Fifty in parallel, without burning the CPU the servers share with
        # this test on one machine.
        stop.wait(0.05)


@pytest.fixture
def servers(odoo_cli, tmp_path):
    vendor, buyer = vendor_and_buyer(
        odoo_cli, "chaos", 8175, tmp_path, template_database(odoo_cli)
    )
    try:
        vendor.set_param("k2k_network.http_timeout", str(DEADLINE))
        # One message per request: the fickle partner answers each, and
        # flips its switch at each answer.
        vendor.set_param("k2k_network.http_batch_size", "1")
        # Retries 1.5, 3, 6 s apart: a failing partner is left alone 5 to 6 s
        # after its third failure, long enough to see it is not tried.
        vendor.set_param("k2k_network.retry_base_seconds", str(RETRY_BASE))
        vendor.set_param("k2k_network.retry_max_seconds", str(4 * RETRY_BASE))
        yield vendor, buyer
    finally:
        stop_and_drop(vendor, buyer)


def test_no_partner_and_no_stranger_stops_the_network(servers, wait_for_demo_install):
    vendor, buyer = servers
    # The vendor's outbox waits until everything is queued: then one
    # scheduled run meets all four partners at once.
    start_servers(vendor, buyer)
    vendor.switch_k2k_action(False)
    joined = join_network(vendor, buyer, "Chaos Vendor", "Healthy Buyer")
    [(product, _buyer_product)] = make_k2k_products(
        vendor, buyer, joined["buyer_vendor_partner"]
    )
    bad = {}
    for behaviour in ("nul", "trickle", "flip"):
        server, handler, url = _serve(behaviour)
        connection, customer = _connect_bad_partner(
            vendor, f"{behaviour.title()} Buyer", url
        )
        bad[behaviour] = (server, handler, connection, customer)
    healthy = joined["vendor_connection"]
    healthy_invoices = _post_invoices(
        vendor, healthy, joined["vendor_customer"], product, HEALTHY_INVOICES
    )
    for _server, _handler, connection, customer in bad.values():
        _post_invoices(vendor, connection, customer, product, BAD_INVOICES)
    assert {m["state"] for m in _messages(vendor, healthy)} == {"queued"}
    [(calls_before,)] = vendor.query_all(
        "SELECT coalesce(max(id), 0) FROM ir_cron_progress"
    )

    # The shop's bounds below are for this test beside the other test
    # workers, not beside an install too.
    wait_for_demo_install()
    # The web shop, warm (its first page compiles its templates), and how
    # long its page takes on this machine as it is now, without the flood.
    assert requests.get(f"{buyer.url}/", timeout=60).ok
    calm_times = []
    for _request in range(5):
        start = time.monotonic()
        assert requests.get(f"{buyer.url}/", timeout=30).ok
        calm_times.append(time.monotonic() - start)
    stop = threading.Event()
    answers = []
    with ThreadPoolExecutor(max_workers=STRANGERS) as pool:
        for _stranger in range(STRANGERS):
            pool.submit(_flood, buyer.url, stop, answers)
        try:
            wait_until(lambda: len(answers) >= STRANGERS, 60, "the flood is on")
            vendor.switch_k2k_action(True)  # its scheduler runs it at once
            shop_times = []
            give_up = time.monotonic() + 180
            while len(shop_times) < 10 or not all(
                m["state"] == "applied" for m in _messages(vendor, healthy)
            ):
                start = time.monotonic()
                assert requests.get(f"{buyer.url}/", timeout=30).ok
                shop_times.append(time.monotonic() - start)
                assert start < give_up, "the healthy buyer is not reached"
                time.sleep(0.2)
        finally:
            stop.set()
    flood_statuses = set(answers)
    assert flood_statuses <= {401, 413}, flood_statuses
    # The flood may slow the shop, not stop it: no page takes more than
    # 2 s, or four times the slowest calm one when the machine is busy.
    assert max(shop_times) < max(2, 4 * max(calm_times)), (shop_times, calm_times)
    # Shown with pytest -rP: what the flood and the bad partners cost.
    median = sorted(shop_times)[len(shop_times) // 2]
    print(
        f"chaos: {len(answers)} anonymous requests refused ({flood_statuses}); "
        f"shop home page {len(shop_times)} times, slowest "
        f"{max(shop_times):.2f} s, median {median:.2f} s (calm: slowest "
        f"{max(calm_times):.2f} s)"
    )

    # Every invoice to the healthy buyer is a bill, made in the vendor's
    # first scheduled call. Each call of the scheduled action is a row of
    # Odoo's cron progress, committed before the call's own transaction
    # begins; a message applied in a call bears that transaction's time.
    calls = vendor.query_all(
        "SELECT p.create_date FROM ir_cron_progress p "
        "JOIN ir_model_data d ON d.res_id = p.cron_id AND d.model = 'ir.cron' "
        "WHERE d.module = 'k2k_network' AND d.name = 'ir_cron_k2k_process_messages' "
        "AND p.id > %s ORDER BY p.id",
        [calls_before],
    )
    assert calls, "the scheduled action ran"
    [(applied_at,)] = vendor.query_all(
        "SELECT max(write_date) FROM k2k_message WHERE connection_id = %s "
        "AND message_type = 'invoice' AND state = 'applied'",
        [healthy],
    )
    assert calls[0][0] < applied_at, (calls, applied_at)
    if len(calls) > 1:
        assert applied_at < calls[1][0], (calls, applied_at)
    bills = buyer.search_read(
        "account.move", [("k2k_document_uid", "!=", False)], ["id"]
    )
    assert len(bills) == len(healthy_invoices)

    # The failing partners are left alone after 3 failures each, and not
    # tried while they are; their words are cleaned, the trickling one was
    # given up at the deadline.
    for behaviour, words in (("nul", "down"), ("trickle", "timed out")):
        _server, handler, connection, _customer = bad[behaviour]

        def left_alone(connection=connection):
            # Its retries are planned seconds apart: taken at once, not after
            # the scheduler's one-minute nap.
            vendor.wake_cron()
            return _breaker(vendor, connection)["paused"]

        paused = wait_until(left_alone, 120, f"the {behaviour} partner is left alone")
        # Left alone from its third failure on: seen in its first pause, or
        # in a later one (its pause ended while the flood went on, it was
        # tried again and failed again), the first came after the third.
        times = list(handler.requests)
        assert paused["failures"] == len(times) >= 3, (paused, times)
        assert len(times) == 3 or times[3] - times[2] > 4, times
        tried = len(handler.requests)
        for message in _messages(vendor, connection):
            assert message["state"] == "queued"
            assert "\x00" not in message["error"] and words in message["error"]
        # Watched until a second before the pause ends, by the database's
        # clock (the pause is 5 to 6 s; polling and reading took some of it).
        [(left,)] = vendor.query_all(
            "SELECT extract(epoch FROM delivery_paused_until "
            "- (now() AT TIME ZONE 'UTC')) FROM k2k_connection WHERE id = %s",
            [connection],
        )
        assert left > 1, f"the pause was nearly over when seen ({left} s left)"
        time.sleep(float(left) - 1)
        assert len(handler.requests) == tried, "not tried while left alone"

    # The fickle partner: each time it turns its switch back on, what waited
    # for it goes again later (1.5, 3, 6 s here), not at once.
    _server, handler, connection, _customer = bad["flip"]
    flips = _breaker(vendor, connection)["flips"]
    assert flips >= 2, flips
    window = time.monotonic() - handler.requests[0]
    most = BAD_INVOICES * (3 + window / RETRY_BASE + 2)
    assert len(handler.requests) <= most, (len(handler.requests), window)

    cron = vendor.query_all(
        "SELECT c.active, c.failure_count FROM ir_cron c "
        "JOIN ir_model_data d ON d.res_id = c.id AND d.model = 'ir.cron' "
        "WHERE d.module = 'k2k_network' AND d.name = 'ir_cron_k2k_process_messages'"
    )
    assert cron == [(True, 0)], cron
    print(
        f"chaos: first call applied {len(bills)} bills; "
        f"{len(bad['flip'][1].requests)} requests to the fickle partner "
        f"in {window:.0f} s, {flips} flips"
    )
    for server, _handler, _connection, _customer in bad.values():
        server.shutdown()
        server.server_close()


def _breaker(vendor, connection):
    [(failures, paused_until, paused_now, flips)] = vendor.query_all(
        "SELECT delivery_failures, delivery_paused_until, "
        "delivery_paused_until > (now() AT TIME ZONE 'UTC'), "
        "remote_settings_changes FROM k2k_connection WHERE id = %s",
        [connection],
    )
    return {
        "failures": failures,
        "paused": paused_now and {"failures": failures, "until": paused_until},
        "flips": flips or 0,
    }
