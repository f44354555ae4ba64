"""Install with demo data, then uninstall: nothing of K2K may stay behind."""

import os
import uuid

import pytest

K2K_LEFTOVERS = {
    "models": "SELECT model FROM ir_model WHERE model LIKE 'k2k.%%'",
    "fields": "SELECT model || '.' || name FROM ir_model_fields "
    "WHERE name LIKE 'k2k\\_%%' OR model LIKE 'k2k.%%'",
    "tables": "SELECT table_name FROM information_schema.tables "
    "WHERE table_schema = 'public' AND table_name LIKE 'k2k\\_%%'",
    "columns": "SELECT table_name || '.' || column_name "
    "FROM information_schema.columns "
    "WHERE table_schema = 'public' AND column_name LIKE 'k2k\\_%%'",
    "views": "SELECT name FROM ir_ui_view WHERE arch_db::text LIKE '%%k2k\\_%%'",
    "menus": "SELECT id FROM ir_ui_menu WHERE name::text LIKE '%%K2K%%'",
    "xmlids": "SELECT module || '.' || name FROM ir_model_data "
    "WHERE module = 'k2k_network'",
}


def test_test_database_has_no_demo_data(odoo_cli, test_database):
    # ./scripts/test.sh installed the addon without demo data in this database.
    db = test_database
    rows = odoo_cli.query(
        db, "SELECT state, demo FROM ir_module_module WHERE name = 'k2k_network'"
    )
    assert rows == [("installed", False)]
    assert odoo_cli.query(
        db, "SELECT count(*) FROM res_company WHERE name = 'Bloom Imports'"
    ) == [(0,)]


@pytest.fixture
def demo_db(odoo_cli, wait_for_demo_install):
    """A database where an administrator installed k2k_network with demo
    data: the one ./scripts/test.sh installs beside the suite's own (once it
    ended, with its exit status and log), else one installed here."""
    installed_beside = wait_for_demo_install()
    if installed_beside:
        name = os.environ["K2K_DEMO_INSTALL_DB"]
        odoo_cli.check_output(*installed_beside)
    else:
        name = f"k2k_scratch_{uuid.uuid4().hex[:8]}"
        odoo_cli.run(name, "-i", "k2k_network", "--stop-after-init")
    yield name
    odoo_cli.drop(name)


def test_install_with_demo_then_uninstall(odoo_cli, demo_db):
    assert odoo_cli.query(
        demo_db,
        "SELECT state, demo FROM ir_module_module WHERE name = 'k2k_network'",
    ) == [("installed", True)]
    # The demo connects a vendor and a buyer, both opted in.
    assert odoo_cli.query(
        demo_db,
        "SELECT v.name, b.name, c.state, v.k2k_invoice_sync_enabled, "
        "b.k2k_invoice_upload_enabled FROM k2k_connection c "
        "JOIN res_company v ON v.id = c.vendor_company_id "
        "JOIN res_company b ON b.id = c.buyer_company_id",
    ) == [("Bloom Imports", "Petal Wholesale", "active", True, True)]

    # ...a finished example: the vendor's posted invoice waits in the queue,
    # and the scheduled action makes the buyer's bill of it; and the two
    # bills of the lifecycle's example, made at install (disputed, paid).
    assert odoo_cli.query(
        demo_db,
        "SELECT m.state, i.state FROM k2k_message m "
        "JOIN account_move i ON i.id = m.res_id AND m.res_model = 'account.move' "
        "WHERE m.message_type = 'invoice' ORDER BY m.state",
    ) == [("applied", "posted"), ("applied", "posted"), ("queued", "posted")]
    odoo_cli.shell(
        demo_db, "env['k2k.message']._cron_process_messages()\nenv.cr.commit()\n"
    )
    assert odoo_cli.query(
        demo_db,
        "SELECT b.move_type, b.state, b.k2k_approval_state, b.ref = i.name, "
        "b.message_main_attachment_id IS NOT NULL FROM account_move b "
        "JOIN k2k_message m ON m.partner_res_id = b.id "
        "AND m.partner_res_model = 'account.move' "
        "JOIN account_move i ON i.id = m.res_id WHERE m.message_type = 'invoice' "
        "ORDER BY b.k2k_approval_state",
    ) == [
        ("in_invoice", "posted", "approved", True, True),
        ("in_invoice", "draft", "disputed", True, True),
        ("in_invoice", "draft", "pending", True, True),
    ]
    # One K2K order at each stage, seen from both sides once the queue ran.
    assert odoo_cli.query(
        demo_db,
        "SELECT k2k_vendor_state, count(*) FROM purchase_order "
        "WHERE k2k_vendor_state IS NOT NULL GROUP BY 1 ORDER BY 1",
    ) == [("changed", 1), ("confirmed", 5)]
    assert odoo_cli.query(
        demo_db,
        "SELECT count(*) FROM stock_picking WHERE k2k_shipment_ref IS NOT NULL "
        "AND state NOT IN ('done', 'cancel')",
    ) == [(1,)]
    assert odoo_cli.query(
        demo_db,
        "SELECT k2k_buyer_status FROM account_move "
        "WHERE k2k_buyer_status IS NOT NULL ORDER BY 1",
    ) == [("disputed",), ("paid",), ("pending",)]

    odoo_cli.shell(
        demo_db,
        "env['ir.module.module'].search([('name', '=', 'k2k_network')])"
        ".button_immediate_uninstall()\nenv.cr.commit()\n",
    )
    assert odoo_cli.query(
        demo_db, "SELECT state FROM ir_module_module WHERE name = 'k2k_network'"
    ) == [("uninstalled",)]
    leftovers = {
        what: odoo_cli.query(demo_db, sql) for what, sql in K2K_LEFTOVERS.items()
    }
    assert leftovers == {what: [] for what in K2K_LEFTOVERS}
