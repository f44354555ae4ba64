"""A buyer's database restored from a backup, with two real servers: the
buyer's database is copied (its backup) after 5 of the vendor's invoices
became bills; 5 more invoices are posted and billed; the buyer's server is
stopped, its database replaced by the backup (and its files by the backup's)
and started again; an 11th invoice is posted. The network heals by itself:
the vendor sends again the 5 invoices the buyer lost, and the buyer holds 11
bills, one per invoice, each with its PDF.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
from remote_network import (
    OdooServer,
    invoice_sale_orders,
    join_network,
    make_k2k_products,
    stop_and_drop,
    template_database,
    wait_until,
)

VENDOR_NAME = "Bloom Restore Imports"
BUYER_NAME = "Petal Restore Wholesale"
INVOICES = 11


@pytest.fixture(scope="module")
def restore_network(odoo_cli, tmp_path_factory):
    template = template_database(odoo_cli)
    log_dir = tmp_path_factory.mktemp("restore_servers")
    vendor = OdooServer(odoo_cli, "k2k_restore_vendor", 8181, log_dir)
    buyer = OdooServer(odoo_cli, "k2k_restore_buyer", 8182, log_dir)
    backup = OdooServer(odoo_cli, "k2k_restore_buyer_backup", 0, log_dir)
    for server in (vendor, buyer):
        server.create_from(template)
        server.start()
    try:
        yield {"vendor": vendor, "buyer": buyer, "backup": backup}
    finally:
        backup.drop()
        stop_and_drop(vendor, buyer)


def _sql(server, query, params=None):
    return server.cli.query(server.db, query, params)


def _copy_database(server, source, target):
    """``target`` becomes a copy of database ``source`` with its files, as
    an administrator's backup or restore makes it (the server of
    ``source`` is stopped)."""
    server.cli.drop(target)
    subprocess.run(
        ["createdb", "-U", server.cli.db_user, "-T", source, target],
        check=True,
        capture_output=True,
    )
    filestore = Path(server.cli.data_dir) / "filestore"
    shutil.rmtree(filestore / target, ignore_errors=True)
    if (filestore / source).is_dir():
        shutil.copytree(filestore / source, filestore / target)


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
    """Wait for ``predicate``, waking both scheduled actions at each poll."""

    def woken():
        net["vendor"].wake_cron()
        net["buyer"].wake_cron()
        return predicate()

    return wait_until(woken, timeout, what, interval=1)


def _make_invoices(net):
    """Eleven K2K orders from the buyer, invoiced by the vendor (one draft
    invoice per order); return the invoice ids."""
    vendor, buyer = net["vendor"], net["buyer"]
    po_ids = buyer.call(
        "purchase.order",
        "create",
        [
            {
                "partner_id": net["buyer_vendor_partner"],
                "order_line": [
                    (0, 0, {"product_id": net["buyer_product"], "product_qty": 10 + i})
                ],
            }
            for i in range(INVOICES)
        ],
    )
    buyer.call("purchase.order", "button_confirm", po_ids)
    names = [
        po["name"] for po in buyer.call("purchase.order", "read", po_ids, ["name"])
    ]
    _settle(
        net,
        lambda: vendor.count("sale.order", [("client_order_ref", "in", names)])
        == INVOICES,
        120,
        "the K2K orders reach the vendor",
    )
    orders = vendor.search_read(
        "sale.order", [("client_order_ref", "in", names)], ["id"]
    )
    invoice_sale_orders(vendor, [order["id"] for order in orders])
    invoices = vendor.search_read(
        "account.move",
        [("move_type", "=", "out_invoice"), ("state", "=", "draft")],
        ["id"],
        order="id",
    )
    assert len(invoices) == INVOICES, invoices
    return [invoice["id"] for invoice in invoices]


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
    net.update(join_network(vendor, buyer, VENDOR_NAME, BUYER_NAME))
    net["buyer_vendor_partner"] = buyer.read_one(
        "k2k.connection", net["buyer_connection"], ["vendor_partner_id"]
    )["vendor_partner_id"][0]
    [(_product, net["buyer_product"])] = make_k2k_products(
        vendor, buyer, net["buyer_vendor_partner"]
    )
    invoices = _make_invoices(net)
    _post_and_bill(net, invoices[:5], 5)
    # The buyer's scheduled action has run: it knows which database it is.
    assert _sql(
        buyer,
        "SELECT value FROM ir_config_parameter WHERE key = 'k2k_network.database_oid'",
    )

    # The backup, taken while the buyer's server is stopped.
    buyer.stop()
    _copy_database(buyer, buyer.db, backup.db)
    buyer.start()
    _post_and_bill(net, invoices[5:10], 10)

    # The restore: the buyer's database and files are the backup's again.
    buyer.stop()
    _copy_database(buyer, backup.db, buyer.db)
    assert len(_bills(buyer)) == 5, "the restore took the last 5 bills away"
    buyer.start()
    vendor.call("account.move", "action_post", invoices[10:])

    _settle(
        net,
        lambda: len(_bills(buyer)) == INVOICES
        and not vendor.count(
            "k2k.message",
            [("message_type", "=", "invoice"), ("state", "!=", "applied")],
        ),
        180,
        "every invoice a bill again",
    )
    bills = _bills(buyer)
    assert all(counts == [1] for counts in bills.values()), bills
    vendor_notes = vendor.search_read(
        "mail.message",
        [("model", "=", "k2k.connection"), ("res_id", "=", net["vendor_connection"])],
        ["body"],
    )
    assert any(
        "went back to an earlier point" in n["body"] for n in vendor_notes
    ), vendor_notes
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
