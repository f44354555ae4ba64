"""Databases restored from a backup, with two real servers, as an
administrator restores them: the server stopped, its database replaced by
the backup's (and its files by the backup's), started again. A backup is
taken while the server runs, as a nightly one is.

1. The buyer: its backup is taken after 5 of the vendor's invoices became
   bills; 5 more invoices are posted and billed, and one bill approved;
   then the restore, and an 11th invoice. The network heals by itself: the
   vendor sends again the 5 invoices the buyer lost, the buyer holds 11
   bills, one per invoice, each with its PDF, and its approval made again
   after the restore reaches the vendor.
2. The vendor: its backup is taken, an invoice is updated and two more
   are posted and billed; then the restore. Within two runs of each side's
   scheduled action the buyer flags the bills whose invoices the vendor may
   have lost; the vendor's next invoice, which takes a number the buyer
   already holds a bill of, is flagged and not merged, and the vendor's
   update made after the restore reaches the buyer's bill.
3. Copies of the buyer's database started beside it, at another address:
   neutralized, it sends nothing; not neutralized, the vendor refuses it
   for good and shows it, and the buyer goes on.
4. Both sides restored to different points: each finds the other's new
   history, what the buyer lost and the vendor holds comes back within two
   runs of each side's scheduled action, and what neither holds is done
   again, once.
5. A restored buyer whose scheduled action is switched off: two runs of
   each side's, by hand, bring back what it lost.

The tests share two servers, joined once; each makes the invoices it needs,
so that each runs alone as well (``-k``) as after the others.
"""

import time

import pytest
from remote_network import (
    K2K_ACTION_ID,
    OdooServer,
    confirm_k2k_orders,
    invoice_sale_orders,
    join_network,
    make_k2k_products,
    start_servers,
    stop_and_drop,
    stop_servers,
    template_database,
    vendor_and_buyer,
    wait_until,
)

VENDOR_NAME = "Bloom Restore Imports"
BUYER_NAME = "Petal Restore Wholesale"
INVOICES = 11
# Seconds before a failed delivery is tried again (at most: Odoo keeps whole
# seconds): the runs of the scheduled action that tests make by hand are as
# far apart at least, so that a retry one run plans is due at that server's
# next run.
RETRY_SECONDS = 1


@pytest.fixture(scope="module")
def restore_network(odoo_cli, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("restore_servers")
    vendor, buyer = vendor_and_buyer(
        odoo_cli, "restore", 8181, log_dir, template_database(odoo_cli)
    )
    backup = OdooServer(odoo_cli, "k2k_restore_buyer_backup", 0, log_dir)
    for server in (vendor, buyer):
        server.set_param("k2k_network.retry_base_seconds", str(RETRY_SECONDS))
        server.set_param("k2k_network.retry_max_seconds", str(RETRY_SECONDS))
    start_servers(vendor, buyer)
    net = {"vendor": vendor, "buyer": buyer, "backup": backup}
    try:
        net.update(join_network(vendor, buyer, VENDOR_NAME, BUYER_NAME))
        [(_product, net["buyer_product"])] = make_k2k_products(
            vendor, buyer, net["buyer_vendor_partner"]
        )
        # The buyer's first message after joining tells the vendor its
        # history: what the tests compare a restore or a copy against.
        _settle(
            net,
            lambda: vendor.read_one(
                "k2k.connection", net["vendor_connection"], ["partner_history_uid"]
            )["partner_history_uid"],
            60,
            "the vendor knows the buyer's history",
        )
        yield net
    finally:
        backup.drop()
        _stop(vendor, buyer)
        stop_and_drop(vendor, buyer)


@pytest.fixture(autouse=True)
def _schedulers_on_after_each_test(restore_network):
    """Whatever a test left behind (one that failed midway), the next finds
    both servers running, their K2K scheduled action on."""
    yield
    servers = restore_network["vendor"], restore_network["buyer"]
    for server in servers:
        if not server.running:
            server.stop()  # died midway: forgotten, then started again
    _switch_actions(True, *servers)


def _sql(server, query, params=None):
    return server.cli.query(server.db, query, params)


def _bills(buyer):
    """``{document identifier: [its bills' attachment counts]}``."""
    bills = {}
    for uid, attachments in _sql(
        buyer,
        "SELECT m.k2k_document_uid, count(a.id) FROM account_move m "
        "LEFT JOIN ir_attachment a ON a.res_model = 'account.move' "
        "AND a.res_id = m.id AND a.mimetype = 'application/pdf' "
        "WHERE m.k2k_document_uid IS NOT NULL AND m.move_type = 'in_invoice' "
        "GROUP BY m.id",
    ):
        bills.setdefault(uid, []).append(attachments)
    return bills


def _settle(net, predicate, timeout, what):
    """Wait for ``predicate``, waking both scheduled actions at each poll;
    on failure, show where each side stands."""

    def woken():
        net["vendor"].wake_cron()
        net["buyer"].wake_cron()
        return predicate()

    try:
        return wait_until(woken, timeout, what, interval=0.25)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{_where_they_stand(net)}") from None


def _where_they_stand(net):
    lines = []
    for side in ("vendor", "buyer"):
        server = net[side]
        for query in (
            "SELECT id, history_uid, history_since, partner_history_uid, "
            "partner_restart_count, position_check_pending FROM k2k_connection",
            "SELECT message_type, state, count(*), max(partner_receipt), "
            "string_agg(coalesce(state_detail, ''), ' | ') FROM k2k_message "
            "GROUP BY 1, 2 ORDER BY 1, 2",
            "SELECT message_type, document_uid, receipt, revision, revision_offset "
            "FROM k2k_received WHERE receipt > 0 ORDER BY receipt",
        ):
            lines.append(f"{side}: {_sql(server, query)}")
    return "\n".join(lines)


def _make_invoices(net, count):
    """``count`` K2K orders from the buyer, invoiced by the vendor (one draft
    invoice per order); return the invoice ids."""
    vendor, buyer = net["vendor"], net["buyer"]
    names = confirm_k2k_orders(buyer, net, [10 + i for i in range(count)])
    _settle(
        net,
        lambda: vendor.count("sale.order", [("client_order_ref", "in", names)])
        == count,
        120,
        "the K2K orders reach the vendor",
    )
    orders = vendor.search_read(
        "sale.order", [("client_order_ref", "in", names)], ["id"]
    )
    invoice_sale_orders(vendor, [order["id"] for order in orders])
    invoices = vendor.search_read(
        "account.move",
        [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "draft"),
            (
                "invoice_line_ids.sale_line_ids.order_id",
                "in",
                [o["id"] for o in orders],
            ),
        ],
        ["id"],
        order="id",
    )
    assert len(invoices) == count, invoices
    return [invoice["id"] for invoice in invoices]


def _uid_of(net, invoice_id):
    """The document identifier the vendor's invoice travels under."""
    return net["vendor"].search_read(
        "k2k.message",
        [("res_model", "=", "account.move"), ("res_id", "=", invoice_id)],
        ["document_uid"],
        limit=1,
    )[0]["document_uid"]


def _bill_of(net, invoice_id, fields=("id",)):
    uid = _uid_of(net, invoice_id)
    bills = net["buyer"].search_read(
        "account.move", [("k2k_document_uid", "=", uid)], list(fields)
    )
    assert len(bills) == 1, bills
    return bills[0]


def _status_revision(net, invoice_id):
    return net["vendor"].read_one(
        "account.move", invoice_id, ["k2k_buyer_status_revision"]
    )["k2k_buyer_status_revision"]


def _take_backup(net, server, backup):
    """``backup`` becomes a copy of ``server``'s database and files, taken
    while its server runs, as a nightly backup is: between two runs of each
    side's scheduled action, so that nothing is on its way meanwhile."""
    sides = (net["vendor"], net["buyer"])
    try:
        for side in sides:
            side.switch_k2k_action(False)
        server.cli.copy(server.db, backup.db, in_use=True)
        # The action was held off for the copy only: on in the backup.
        backup.execute(f"UPDATE ir_cron SET active = true WHERE id = ({K2K_ACTION_ID})")
    finally:
        for side in sides:
            side.switch_k2k_action(True)


def _stop(*servers):
    """Stop ``servers`` once their K2K scheduled action is switched off: a
    run under way ends first (Odoo's server, stopped, would close the
    database connections of a run still going, and log its next query as
    an error). A server stopped here is restored, or started again with
    the action switched off or on."""
    for server in servers:
        server.switch_k2k_action(False)
    stop_servers(*servers)


def _post_and_bill(net, invoice_ids, bills):
    net["vendor"].call("account.move", "action_post", invoice_ids)
    _settle(
        net,
        lambda: len(_bills(net["buyer"])) == bills,
        180,
        f"{bills} bills at the buyer",
    )


def test_a_restored_buyer_gets_back_every_bill_once(restore_network):
    net = restore_network
    vendor, buyer, backup = net["vendor"], net["buyer"], net["backup"]
    invoices = _make_invoices(net, INVOICES)
    billed = len(_bills(buyer))
    _post_and_bill(net, invoices[:5], billed + 5)
    # The buyer's connection knows the database it is in.
    assert _sql(buyer, "SELECT database_oid FROM k2k_connection")[0][0]

    # The backup, taken while the buyer's server runs.
    _take_backup(net, buyer, backup)
    _post_and_bill(net, invoices[5:10], billed + 10)
    # A bill made before the backup is approved after it.
    approved = _bill_of(net, invoices[1])["id"]
    told = _status_revision(net, invoices[1])
    buyer.call("account.move", "action_k2k_approve", [approved])
    _settle(net, lambda: _status_revision(net, invoices[1]) > told, 60, "approval told")

    # The restore: the buyer's database and files are the backup's again.
    _stop(buyer)
    buyer.cli.copy(backup.db, buyer.db)
    assert len(_bills(buyer)) == billed + 5, "the restore took the last 5 bills away"
    buyer.start()
    vendor.call("account.move", "action_post", invoices[10:11])

    _settle(
        net,
        lambda: len(_bills(buyer)) == billed + INVOICES
        and not vendor.count(
            "k2k.message",
            [("message_type", "=", "invoice"), ("state", "!=", "applied")],
        ),
        180,
        "every invoice a bill again",
    )
    odd = {uid: counts for uid, counts in _bills(buyer).items() if counts != [1]}
    assert not odd, (odd, _where_they_stand(net))
    vendor_notes = vendor.search_read(
        "mail.message",
        [("model", "=", "k2k.connection"), ("res_id", "=", net["vendor_connection"])],
        ["body"],
    )
    assert any("went back to a backup" in n["body"] for n in vendor_notes), vendor_notes
    buyer_notes = buyer.search_read(
        "mail.message",
        [("model", "=", "k2k.connection"), ("res_id", "=", net["buyer_connection"])],
        ["body"],
    )
    assert any("restored from a backup" in n["body"] for n in buyer_notes), buyer_notes
    # Both sides agree again.
    _settle(
        net,
        lambda: vendor.read_one(
            "k2k.connection", net["vendor_connection"], ["position_verified_date"]
        )["position_verified_date"],
        60,
        "the vendor sees the buyer holds everything",
    )
    # The approval was lost with the restore: the vendor's invoice is
    # flagged, and the buyer's approval made again (under a revision the
    # vendor had seen already) reaches it.
    assert vendor.read_one("account.move", invoices[1], ["k2k_restore_check"])[
        "k2k_restore_check"
    ]
    bill = _bill_of(net, invoices[1], ["id", "k2k_approval_state"])
    assert bill["k2k_approval_state"] == "pending", bill
    buyer.call("account.move", "action_k2k_approve", [bill["id"]])
    _settle(
        net,
        lambda: {
            message["state"]
            for message in buyer.search_read(
                "k2k.message",
                [("message_type", "=", "bill_status"), ("res_id", "=", bill["id"])],
                ["state"],
            )
        }
        == {"applied"},
        60,
        "the approval made after the restore reaches the vendor",
    )
    assert (
        vendor.read_one("account.move", invoices[1], ["k2k_buyer_status"])[
            "k2k_buyer_status"
        ]
        == "approved"
    )


def _set_price(vendor, invoice_id, price):
    """The vendor changes its posted invoice: back to draft, a new price,
    posted again (a new revision for the buyer)."""
    vendor.call("account.move", "button_draft", [invoice_id])
    line = vendor.search_read(
        "account.move.line",
        [("move_id", "=", invoice_id), ("display_type", "=", "product")],
        ["id"],
    )[0]["id"]
    vendor.call(
        "account.move",
        "write",
        [invoice_id],
        {"invoice_line_ids": [(1, line, {"price_unit": price})]},
    )
    vendor.call("account.move", "action_post", [invoice_id])


def test_a_restored_vendor_is_flagged_where_it_cannot_heal(restore_network):
    net = restore_network
    vendor, buyer, backup = net["vendor"], net["buyer"], net["backup"]
    invoices = _make_invoices(net, 4)
    billed = len(_bills(buyer))
    _post_and_bill(net, invoices[:1], billed + 1)
    vendor_backup = OdooServer(
        vendor.cli, "k2k_restore_vendor_backup", 0, backup.logfile.parent
    )
    try:
        _take_backup(net, vendor, vendor_backup)
        # After the backup: invoice 1 updated, two more invoices billed.
        _set_price(vendor, invoices[0], 1.10)
        _settle(
            net,
            lambda: _bill_of(net, invoices[0], ["k2k_revision"])["k2k_revision"] == 2,
            90,
            "the update reaches the bill",
        )
        _post_and_bill(net, invoices[1:3], billed + 3)
        numbers = {
            inv["id"]: inv["name"]
            for inv in vendor.call("account.move", "read", invoices[1:3], ["name"])
        }

        def flagged():
            return {
                bill["ref"]
                for bill in buyer.search_read(
                    "account.move",
                    [("k2k_restore_check", "=", True)],
                    ["ref"],
                )
            }

        _switch_actions(False, buyer)
        _stop(vendor)
        vendor.cli.copy(vendor_backup.db, vendor.db)
        _switch_actions(False, vendor)
        _two_runs_each(vendor, buyer)
        # Without anyone's action, the bills of the invoices the vendor
        # lost are flagged.
        assert set(numbers.values()) <= flagged(), (flagged(), _where_they_stand(net))
        _switch_actions(True, vendor, buyer)
        # The vendor numbers again from its backup: its next invoice takes
        # the number the buyer holds a bill of already.
        vendor.call("account.move", "action_post", [invoices[3]])
        reused = vendor.read_one("account.move", invoices[3], ["name"])["name"]
        assert reused in numbers.values(), (reused, numbers)
        (lost,) = set(numbers.values()) - {reused}
        # And it changes invoice 1 again, from its own revision 1.
        _set_price(vendor, invoices[0], 1.25)

        _settle(
            net,
            lambda: len(_bills(buyer)) == billed + 4 and len(flagged()) >= 2,
            120,
            "the vendor's next invoice billed, what it lost flagged",
        )
        # One bill per document, each with its PDF (and those of the
        # revisions it had before: the vendor's update adds its own).
        odd = {
            uid: counts
            for uid, counts in _bills(buyer).items()
            if len(counts) != 1 or not counts[0]
        }
        assert not odd, (odd, _where_they_stand(net))
        two = buyer.search_read(
            "account.move",
            [("ref", "=", reused), ("move_type", "=", "in_invoice")],
            ["k2k_restore_check", "k2k_document_uid", "amount_untaxed"],
        )
        assert len(two) == 2 and all(b["k2k_restore_check"] for b in two), two
        assert lost in flagged(), flagged()
        _settle(
            net,
            lambda: _bill_of(net, invoices[0], ["invoice_line_ids", "amount_untaxed"])[
                "amount_untaxed"
            ]
            == vendor.read_one("account.move", invoices[0], ["amount_untaxed"])[
                "amount_untaxed"
            ],
            90,
            "the vendor's update made after its restore reaches the bill",
        )
    finally:
        vendor_backup.drop()


def _order_from(server, net, qty):
    """A K2K order confirmed in ``server`` (the buyer, or a copy of it);
    return its name."""
    (name,) = confirm_k2k_orders(server, net, [qty])
    return name


def _order_messages(server, name):
    """``[(state, state_detail)]`` of the K2K messages of order ``name``."""
    return _sql(
        server,
        "SELECT m.state, coalesce(m.state_detail, '') || coalesce(m.error, '') "
        "FROM k2k_message m JOIN purchase_order p ON p.id = m.res_id "
        "WHERE m.res_model = 'purchase.order' AND p.name = %s",
        (name,),
    )


def test_copies_of_the_buyer_beside_it_reach_nothing(restore_network):
    """A copy of the buyer's database started beside it, as a test server
    is: neutralized, it sends nothing; not neutralized, the vendor asks the
    buyer's address, finds the copy's history is not the buyer's, refuses
    it for good and shows it. The buyer itself goes on."""
    net = restore_network
    vendor, buyer = net["vendor"], net["buyer"]
    copy = OdooServer(vendor.cli, "k2k_restore_buyer_copy", 8183, buyer.logfile.parent)
    vendor_connection = net["vendor_connection"]

    def copy_alert():
        return vendor.read_one(
            "k2k.connection",
            vendor_connection,
            ["partner_copy_date", "partner_history_uid", "partner_restart_count"],
        )

    before = copy_alert()
    try:
        # Neutralized (Odoo's own command): it speaks to nobody.
        _take_backup(net, buyer, copy)
        copy.cli.run(copy.db, command="neutralize")
        copy.start()
        name = _order_from(copy, net, 3)
        # Two runs of its scheduled action (neutralized, it is switched
        # off; a run by hand runs all the same).
        for _run in range(2):
            time.sleep(RETRY_SECONDS)
            copy.run_k2k_action()
        # Its connection is suspended (the neutralization): whatever it
        # queued never went.
        assert {state for state, _detail in _order_messages(copy, name)} <= {
            "queued",
            "waiting",
        }, _order_messages(copy, name)
        assert not vendor.count("sale.order", [("client_order_ref", "=", name)])
        assert copy_alert() == before
        _stop(copy)

        # Not neutralized: the copy tries, the vendor refuses it, within two
        # runs of the copy's and the vendor's scheduled actions.
        _take_backup(net, buyer, copy)
        _stop(vendor)
        _switch_actions(False, buyer, copy)
        name = _order_from(copy, net, 4)
        _switch_actions(False, vendor)
        _two_runs_each(copy, vendor)
        assert copy_alert()["partner_copy_date"], _where_they_stand(net)
        assert any(
            state == "failed" and "copy" in detail
            for state, detail in _order_messages(copy, name)
        ), _order_messages(copy, name)
        _switch_actions(True, vendor, buyer)
        after = copy_alert()
        assert after["partner_history_uid"] == before["partner_history_uid"], after
        assert after["partner_restart_count"] == before["partner_restart_count"], after
        assert not vendor.count("sale.order", [("client_order_ref", "=", name)])
        notes = vendor.search_read(
            "mail.message",
            [("model", "=", "k2k.connection"), ("res_id", "=", vendor_connection)],
            ["body"],
        )
        assert any("copy of" in note["body"] for note in notes), notes
        # The buyer at its address goes on: its next order reaches the vendor.
        name = _order_from(buyer, net, 5)
        _settle(
            net,
            lambda: vendor.count("sale.order", [("client_order_ref", "=", name)]) == 1,
            60,
            "the buyer's next order reaches the vendor",
        )
    finally:
        copy.stop()
        copy.drop()


def _restore_from(server, backup):
    """Replace ``server``'s database by ``backup``'s (the server stopped),
    as days after: what began a history there began long ago."""
    server.cli.copy(backup.db, server.db)
    server.execute(
        "UPDATE k2k_connection SET "
        "history_date = history_date - interval '1 day', "
        "partner_history_date = partner_history_date - interval '1 day'"
    )


def _flagged_bills(buyer):
    """The ids of the buyer's bills marked To Check With the Partner."""
    return {
        bill_id
        for (bill_id,) in _sql(
            buyer, "SELECT id FROM account_move WHERE k2k_restore_check"
        )
    }


def _agrees(server, connection_id):
    """Whether ``server``'s connection saw both sides agree, and checks
    nothing more."""
    connection = server.read_one(
        "k2k.connection",
        connection_id,
        ["position_verified_date", "position_check_pending"],
    )
    return (
        connection["position_verified_date"]
        and not connection["position_check_pending"]
    )


def test_both_sides_restored_to_different_points_agree_again(restore_network):
    """The buyer's backup is taken after 2 more invoices became bills, the
    vendor's after 2 more; 2 more are billed after both; then both are
    restored. The vendor sends again the 2 invoices the buyer lost; the
    last 2, which neither side holds any more, are posted again and billed
    once; nothing is flagged at the buyer."""
    net = restore_network
    vendor, buyer = net["vendor"], net["buyer"]
    log_dir = buyer.logfile.parent
    buyer_backup = OdooServer(vendor.cli, "k2k_restore_buyer_b1", 0, log_dir)
    vendor_backup = OdooServer(vendor.cli, "k2k_restore_vendor_v1", 0, log_dir)
    invoices = _make_invoices(net, 6)
    billed = len(_bills(buyer))
    try:
        _post_and_bill(net, invoices[0:2], billed + 2)
        # (After the vendor's restore of an earlier test, the vendor numbers
        # again from its backup: a number the buyer holds a bill of already
        # is flagged from the start.)
        flagged = _flagged_bills(buyer)
        _take_backup(net, buyer, buyer_backup)
        _post_and_bill(net, invoices[2:4], billed + 4)
        _take_backup(net, vendor, vendor_backup)
        _post_and_bill(net, invoices[4:6], billed + 6)

        _stop(vendor, buyer)
        _restore_from(vendor, vendor_backup)
        _restore_from(buyer, buyer_backup)
        assert len(_bills(buyer)) == billed + 2
        _switch_actions(False, buyer, vendor)
        states = _sql(
            vendor,
            "SELECT state FROM account_move WHERE id IN %s ORDER BY id",
            (tuple(invoices),),
        )
        assert [state for (state,) in states] == ["posted"] * 4 + ["draft"] * 2
        _two_runs_each(buyer, vendor)
        assert len(_bills(buyer)) == billed + 4, _where_they_stand(net)
        assert not vendor.count(
            "k2k.message",
            [("message_type", "=", "invoice"), ("state", "!=", "applied")],
        ), _where_they_stand(net)
        _switch_actions(True, vendor, buyer)
        # What neither side holds any more is done again, once.
        _post_and_bill(net, invoices[4:6], billed + 6)
        mine = {_uid_of(net, invoice) for invoice in invoices}
        assert len(mine) == len(invoices)
        bills = _bills(buyer)
        odd = {uid: bills.get(uid) for uid in mine if bills.get(uid) != [1]}
        assert not odd, (odd, _where_they_stand(net))
        assert _flagged_bills(buyer) == flagged, (
            _sql(
                buyer,
                "SELECT m.ref, m.k2k_document_uid, b.body FROM account_move m "
                "JOIN mail_message b ON b.model = 'account.move' AND b.res_id = m.id "
                "WHERE m.k2k_restore_check AND m.id NOT IN %s ORDER BY b.id",
                (tuple(flagged) or (0,),),
            ),
            _where_they_stand(net),
        )
        for side in ("vendor", "buyer"):
            _settle(
                net,
                lambda side=side: _agrees(net[side], net[f"{side}_connection"]),
                60,
                f"the {side} sees both sides agree",
            )
    finally:
        buyer_backup.drop()
        vendor_backup.drop()


def _switch_actions(active, *servers):
    """Switch the K2K scheduled action of ``servers`` on or off (a run
    under way ends first), and start those stopped for a restore. Off, the
    action runs only when a test runs it (``_two_runs_each``). A server that
    died on its own fails the test here."""
    for server in servers:
        server.switch_k2k_action(active)
    died = [s.db for s in servers if s.process is not None and not s.running]
    assert not died, f"server(s) that died meanwhile: {died}"
    start_servers(*(server for server in servers if server.process is None))


def _two_runs_each(first, second):
    """Run the K2K scheduled action of each of the two servers (started
    with it switched off) twice, ``first`` first, in turn, half of
    ``RETRY_SECONDS`` before each run: a retry a run plans is due at that
    server's next run, a whole ``RETRY_SECONDS`` and the other's run later."""
    for _run in range(2):
        for server in (first, second):
            time.sleep(RETRY_SECONDS / 2)
            server.run_k2k_action()


def test_a_restored_buyer_heals_within_two_runs_of_each_side(restore_network):
    """With the scheduled action switched off, only two runs of each side's,
    the restored side's first: the bills the buyer lost are back.
    (A retry a run plans is due within a second, at its next run.)"""
    net = restore_network
    vendor, buyer = net["vendor"], net["buyer"]
    backup = OdooServer(vendor.cli, "k2k_restore_buyer_runs", 0, buyer.logfile.parent)
    invoices = _make_invoices(net, 4)
    billed = len(_bills(buyer))
    try:
        _post_and_bill(net, invoices[:2], billed + 2)
        _take_backup(net, buyer, backup)
        _post_and_bill(net, invoices[2:], billed + 4)
        _switch_actions(False, vendor)
        _stop(buyer)
        _restore_from(buyer, backup)
        assert len(_bills(buyer)) == billed + 2
        _switch_actions(False, buyer)
        _two_runs_each(buyer, vendor)
        assert len(_bills(buyer)) == billed + 4, _where_they_stand(net)
        mine = {_uid_of(net, invoice) for invoice in invoices}
        bills = _bills(buyer)
        odd = {uid: bills.get(uid) for uid in mine if bills.get(uid) != [1]}
        assert not odd, (odd, _where_they_stand(net))
    finally:
        backup.drop()
