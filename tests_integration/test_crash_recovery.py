"""Crashes across databases: a vendor's Odoo drains thirty invoices to a
buyer's Odoo, and each server is killed (SIGKILL: no handler, no rollback,
no answer) at the moments where a message can be lost or doubled:

1. the vendor, while its outbox drains (some invoices applied, not all);
2. the buyer, while it receives;
3. the buyer, after it committed a bill and before its answer left;
4. the vendor, after the buyer's answer and before its own commit.

Moments 3 and 4 are reached by the test-only addon k2k_crash_points
(tests_integration/addons), installed in these two databases only; it also
holds the buyer's answer back in moments 1 and 2, so that the test's kill
lands in them whatever the speed of the drain.

After all of it: every invoice is one bill at the buyer, with its PDF, and
every vendor message says applied.
"""

import copy
import os
import signal
from pathlib import Path

import pytest
from remote_network import (
    OdooServer,
    confirm_k2k_orders,
    invoice_sale_orders,
    join_network,
    make_k2k_products,
    start_servers,
    stop_servers,
    wait_until,
)

CRASH_ADDONS = Path(__file__).resolve().parent / "addons"
KILL_AFTER = "k2k_crash_points.kill_after"
SPARE = "k2k_crash_points.spare"
DISARMED = "off"

INVOICES = 30
VENDOR_NAME = "Bloom Crash Imports"
BUYER_NAME = "Petal Crash Wholesale"


@pytest.fixture(scope="module")
def crash_network(odoo_cli, tmp_path_factory):
    template = os.environ.get("K2K_E2E_TEMPLATE")
    if not template:
        pytest.fail("K2K_E2E_TEMPLATE is not set: run through ./scripts/test.sh")
    # The crash points are for these servers only: the other tests keep
    # the addons path (and the template) they had.
    cli = copy.copy(odoo_cli)
    cli.addons_path = f"{odoo_cli.addons_path},{CRASH_ADDONS}"
    log_dir = tmp_path_factory.mktemp("crash_servers")
    # Installed once in a copy of the template, which both servers copy:
    # one module installation instead of two.
    base = OdooServer(cli, "k2k_crash_template", 0, log_dir)
    vendor = OdooServer(cli, "k2k_crash_vendor", 8173, log_dir)
    buyer = OdooServer(cli, "k2k_crash_buyer", 8174, log_dir)
    try:
        base.create_from(template)
        cli.run(base.db, "-i", "k2k_crash_points", "--stop-after-init")
        for server in (vendor, buyer):
            server.create_from(base.db)
        base.drop()
        # Small batches: the scheduled action commits after each one, so a
        # kill lands in the middle of the drain, not before or after it.
        vendor.set_param("k2k_network.batch_size", "5")
        start_servers(vendor, buyer)
        yield {"vendor": vendor, "buyer": buyer}
    finally:
        stop_servers(vendor, buyer)
        for server in (base, vendor, buyer):
            server.drop()


# -- helpers -----------------------------------------------------------------


def _sql(server, query, params=None):
    """Read the server's database directly: it answers while the server is
    down, and polling it does not queue behind the server's own work."""
    return server.cli.query(server.db, query, params)


def _invoice_states(vendor):
    return dict(
        _sql(
            vendor,
            "SELECT state, count(*) FROM k2k_message "
            "WHERE message_type = 'invoice' GROUP BY state",
        )
    )


def _applied(vendor):
    return _invoice_states(vendor).get("applied", 0)


def _bill_count(buyer):
    return _sql(
        buyer, "SELECT count(*) FROM account_move WHERE k2k_document_uid IS NOT NULL"
    )[0][0]


def _mid_batch(vendor, buyer):
    applied = _applied(vendor)
    assert applied < INVOICES, "the outbox drained before the vendor was killed"
    return applied > 0 and _bill_count(buyer) > applied


def _accepted_requests(buyer):
    return _sql(buyer, "SELECT count(*) FROM k2k_request WHERE accepted")[0][0]


def _settle(vendor, predicate, timeout, what, interval=0.25):
    """Wait for ``predicate``, waking the vendor's scheduled action at each
    poll: after a restart, or when a retry falls due, it would otherwise
    sleep up to a minute."""

    def woken():
        vendor.wake_cron()
        return predicate()

    return wait_until(woken, timeout, what, interval=interval)


def _died_by_itself(server):
    """The server ended on its own crash point (SIGKILL from inside)."""
    server.process.wait()
    assert server.process.returncode == -signal.SIGKILL, server.process.returncode


def _last_request_unanswered(net):
    """The buyer's last accepted request was committed (its invoices are
    bills there) but the vendor never recorded its outcome: its messages are
    still queued. This is the window the crash points aim at. A request may
    carry several messages (the log names each document, comma-separated)."""
    vendor, buyer = net["vendor"], net["buyer"]
    [(logged,)] = _sql(
        buyer,
        "SELECT document_uid FROM k2k_request WHERE accepted "
        "ORDER BY id DESC LIMIT 1",
    )
    document_uids = logged.split(",")
    bills = _sql(
        buyer,
        "SELECT k2k_document_uid, count(*) FROM account_move "
        "WHERE k2k_document_uid = ANY(%s) GROUP BY 1",
        [document_uids],
    )
    assert bills and all(count == 1 for _uid, count in bills), (logged, bills)
    states = {
        state
        for (state,) in _sql(
            vendor,
            "SELECT state FROM k2k_message WHERE document_uid = ANY(%s)",
            [document_uids],
        )
    }
    assert states == {"queued"}, (logged, states)


def _make_invoices(net):
    """Thirty K2K orders from the buyer, confirmed and invoiced by the
    vendor (one invoice per order), left in draft."""
    vendor, buyer = net["vendor"], net["buyer"]
    # Each order reaches the vendor during the confirmation.
    names = confirm_k2k_orders(
        buyer, net, [10 + i for i in range(INVOICES)], price=0.80
    )
    orders = vendor.search_read(
        "sale.order", [("client_order_ref", "in", names)], ["id"]
    )
    assert len(orders) == INVOICES, orders
    order_ids = [order["id"] for order in orders]
    invoice_sale_orders(vendor, order_ids)
    invoices = vendor.search_read(
        "account.move",
        [("move_type", "=", "out_invoice"), ("state", "=", "draft")],
        ["amount_untaxed"],
    )
    assert len(invoices) == INVOICES, invoices
    return {inv["id"]: inv["amount_untaxed"] for inv in invoices}


def _buyer_back_until_killed(net, victim, what):
    """Start the buyer again and wait until ``victim`` dies at the point it
    is armed for, in its second request once the buyer is back: the buyer
    committed both requests, and the second one's answer never reached
    the vendor's books."""
    received = _accepted_requests(net["buyer"])
    net["buyer"].start()
    _settle(net["vendor"], lambda: victim.process.poll() is not None, 120, what)
    _died_by_itself(victim)
    assert _accepted_requests(net["buyer"]) == received + 2
    _last_request_unanswered(net)


# -- the test -----------------------------------------------------------------


def test_every_invoice_one_bill_through_four_crashes(crash_network):
    net = crash_network
    vendor, buyer = net["vendor"], net["buyer"]
    net.update(join_network(vendor, buyer, VENDOR_NAME, BUYER_NAME))
    [(_vendor_product, net["buyer_product"])] = make_k2k_products(
        vendor, buyer, net["buyer_vendor_partner"]
    )
    amounts = _make_invoices(net)

    # The vendor's answers to the orders go first: the requests counted
    # below carry invoices only.
    _settle(
        vendor,
        lambda: not _sql(
            vendor, "SELECT count(*) FROM k2k_message WHERE state = 'queued'"
        )[0][0],
        120,
        "the vendor's answers to the orders delivered",
    )
    # The buyer holds back its answer to the second request it takes (and
    # to every one after it, until moment 3 re-arms it): the windows of
    # moments 1 and 2 stay open until the test has killed in them, however
    # fast the drain runs.
    buyer.call("ir.config_parameter", "set_param", SPARE, "1")
    buyer.call("ir.config_parameter", "set_param", KILL_AFTER, "buyer_hold")

    # One post, thirty messages in the vendor's outbox.
    vendor.call("account.move", "action_post", list(amounts))
    assert sum(_invoice_states(vendor).values()) == INVOICES

    # 1. The vendor, while its outbox drains: some invoices applied, and the
    # buyer already holds bills of the batch the vendor has not committed.
    wait_until(
        lambda: _mid_batch(vendor, buyer), 120, "the vendor in mid-batch", interval=0.1
    )
    vendor.kill()
    applied = _applied(vendor)
    assert 0 < applied < INVOICES, applied
    # Answers lost: the buyer has bills the vendor does not know applied.
    assert _bill_count(buyer) > applied, (_bill_count(buyer), applied)

    # 2. The buyer, while it receives: as soon as it took a message from
    # the vendor back on its feet, the rest of that batch still coming.
    # Counted from the restart, by the time its transaction began: a request
    # of the dead vendor may still commit at the buyer after the kill.
    restarted = _sql(buyer, "SELECT now() AT TIME ZONE 'UTC'")[0][0]
    vendor.start()
    _settle(
        vendor,
        lambda: _sql(
            buyer,
            "SELECT count(*) FROM k2k_request WHERE accepted AND create_date > %s",
            [restarted],
        )[0][0],
        120,
        "the buyer receives again once the vendor is back",
        interval=0.1,
    )
    buyer.kill()
    assert _applied(vendor) < INVOICES, "the buyer's kill came after the drain"
    # The vendor met the closed door and keeps the rest for later.
    _settle(
        vendor,
        lambda: _sql(
            vendor,
            "SELECT count(*) FROM k2k_message WHERE state = 'queued' "
            "AND error LIKE %s",
            ["Cannot reach%"],
        )[0][0],
        60,
        "the vendor postpones what the buyer did not take",
    )

    # 3. The buyer, between its commit and its answer, at the second
    # message it takes once back.
    buyer.set_param(KILL_AFTER, "buyer_commit")
    buyer.set_param(SPARE, "1")
    _buyer_back_until_killed(
        net, buyer, "the buyer dies between its commit and its answer"
    )

    # 4. The vendor, between the buyer's answer and its own commit, at the
    # second answer it gets once the buyer is back. Armed through Odoo, so
    # that the running server drops its cached value, and while the buyer
    # is down, so that no delivery reads the parameter while it changes.
    vendor.call("ir.config_parameter", "set_param", SPARE, "1")
    vendor.call("ir.config_parameter", "set_param", KILL_AFTER, "vendor_answer")
    buyer.set_param(KILL_AFTER, DISARMED)
    _buyer_back_until_killed(
        net, vendor, "the vendor dies between the buyer's answer and its commit"
    )
    assert _applied(vendor) < INVOICES

    vendor.set_param(KILL_AFTER, DISARMED)
    vendor.start()
    _settle(
        vendor,
        lambda: _applied(vendor) == INVOICES,
        180,
        "every invoice applied after the crashes",
    )

    # Every vendor message applied, whatever its type.
    states = dict(_sql(vendor, "SELECT state, count(*) FROM k2k_message GROUP BY 1"))
    assert set(states) == {"applied"}, states
    # One invoice message each, each naming its own document.
    messages = _sql(
        vendor,
        "SELECT res_id, document_uid FROM k2k_message WHERE message_type = 'invoice'",
    )
    assert sorted(res_id for res_id, _uid in messages) == sorted(amounts)
    uid_of = dict(messages)
    assert len(set(uid_of.values())) == INVOICES

    # Exactly one bill per invoice, and no bill besides them.
    bills = buyer.search_read(
        "account.move",
        [("k2k_document_uid", "!=", False)],
        ["k2k_document_uid", "amount_untaxed", "message_main_attachment_id"],
    )
    by_uid = {}
    for bill in bills:
        by_uid.setdefault(bill["k2k_document_uid"], []).append(bill)
    doubled = {uid: b for uid, b in by_uid.items() if len(b) > 1}
    assert not doubled, f"doubled bills: {doubled}"
    assert set(by_uid) == set(uid_of.values())
    for invoice_id, uid in uid_of.items():
        [bill] = by_uid[uid]
        assert bill["amount_untaxed"] == pytest.approx(amounts[invoice_id])
        assert bill["message_main_attachment_id"], bill
        pdfs = buyer.search_read(
            "ir.attachment",
            [
                ("res_model", "=", "account.move"),
                ("res_id", "=", bill["id"]),
                ("mimetype", "=", "application/pdf"),
            ],
            ["id"],
        )
        # One PDF: a message received again did not attach it again.
        assert [pdf["id"] for pdf in pdfs] == [bill["message_main_attachment_id"][0]], (
            bill,
            pdfs,
        )

    # No ERROR or CRITICAL line in either log, none excused: a SIGKILL
    # leaves nothing in the log of the server it kills, and what it does to
    # the other one is no error there. The vendor meeting a dead buyer is a
    # postponed message (INFO); the buyer losing its client while it
    # answers is a dropped connection, which Werkzeug does not log.
    for server in (vendor, buyer):
        assert server.process.poll() is None, f"{server.db} is down"
        errors = server.errors_in_log()
        assert not errors, "\n".join(errors)
