"""The same vendor invoice applied from two database cursors at once still
makes exactly one bill: the guarantee lives in the database, not in luck.

These tests commit real data, in a copy of the installed test database
made for them and dropped after them."""

import threading
import time
import uuid

import pytest
from psycopg2 import IntegrityError, errors
from remote_network import template_database

import odoo
from odoo import SUPERUSER_ID, api

from odoo.addons.k2k_network import wire
from odoo.addons.k2k_network.tests.common import apply_envelope


@pytest.fixture(scope="module")
def registry(odoo_cli):
    """A copy of the installed test database for these tests alone: they
    commit, and the transactional tests that run after them in the same
    process must not see what they committed."""
    name = f"k2k_concurrency_{uuid.uuid4().hex[:8]}"
    odoo_cli.copy(template_database(odoo_cli), name)
    # Loaded as a server would load it: with the test flag that pytest-odoo
    # raises for the tests, Odoo would gather its at-install tests too.
    testing, odoo.tools.config["test_enable"] = odoo.tools.config["test_enable"], False
    try:
        registry = odoo.modules.registry.Registry(name)
    finally:
        odoo.tools.config["test_enable"] = testing
    try:
        yield registry
    finally:
        odoo.modules.registry.Registry.delete(name)
        odoo.sql_db.close_db(name)
        odoo_cli.drop(name)


@pytest.fixture(scope="module")
def connected(registry):
    """Two companies with charts of accounts, connected, both opted in."""
    tag = uuid.uuid4().hex[:6]
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        companies = env["res.company"].create(
            [{"name": f"Concurrent Vendor {tag}"}, {"name": f"Concurrent Buyer {tag}"}]
        )
        for company in companies:
            env["account.chart.template"].try_loading(
                "generic_coa", company, install_demo=False
            )
        vendor, buyer = companies
        vendor.k2k_invoice_sync_enabled = True
        buyer.k2k_invoice_upload_enabled = True
        connection = env["k2k.connection"].create(
            {
                "vendor_company_id": vendor.id,
                "buyer_company_id": buyer.id,
                "state": "active",
            }
        )
        cr.commit()
        return {"connection": connection.id, "buyer": buyer.id, "vendor": vendor.id}


def _envelope(document_uid, revision=1):
    return {
        "version": wire.PROTOCOL_VERSION,
        "type": "invoice",
        "document_uid": document_uid,
        "revision": revision,
        "payload": {
            "move_type": "out_invoice",
            "invoice_number": "INV/CONC/0001",
            "invoice_date": "2026-11-02",
            "invoice_date_due": "2026-12-02",
            "currency": "USD",
            "lines": [
                {
                    "purchase_line_ref": False,
                    "name": "Roses",
                    "quantity": 10,
                    "price_unit": 2.5,
                    "discount": 0,
                }
            ],
        },
        "attachments": [],
    }


def _apply_in_own_cursor(registry, connected, envelope, start, hold, results):
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            connection = env["k2k.connection"].browse(connected["connection"])
            start.wait(timeout=30)
            outcome = apply_envelope(connection, envelope)
            env.flush_all()
            time.sleep(hold)  # keep the transaction open while the other one runs
            cr.commit()
            results.append(outcome["outcome"])
    except (IntegrityError, errors.SerializationFailure) as error:
        results.append(type(error).__name__)


def test_two_cursors_one_bill(registry, connected):
    document_uid = f"test/account.move/{uuid.uuid4().hex}"
    envelope = _envelope(document_uid)
    start = threading.Barrier(2)
    results = []
    threads = [
        threading.Thread(
            target=_apply_in_own_cursor,
            args=(registry, connected, envelope, start, hold, results),
        )
        for hold in (1.0, 0.0)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == sorted(["applied", "UniqueViolation"]), results

    with registry.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM account_move WHERE k2k_document_uid = %s",
            [document_uid],
        )
        assert cr.fetchone()[0] == 1
        # The loser retries later and recognises the bill: still one.
        env = api.Environment(cr, SUPERUSER_ID, {})
        connection = env["k2k.connection"].browse(connected["connection"])
        outcome = apply_envelope(connection, envelope)
        assert outcome["outcome"] == "applied"
        assert "already" in outcome["detail"]
        cr.execute(
            "SELECT count(*) FROM account_move WHERE k2k_document_uid = %s",
            [document_uid],
        )
        assert cr.fetchone()[0] == 1
        cr.rollback()


def test_two_workers_process_one_queue_once(registry, connected):
    """Two cron workers at once: each message is taken by one of them."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        # A message whose content is already built: the cancellation of a
        # purchase order the vendor never heard of ("nothing to cancel").
        order = env["purchase.order"].create(
            {
                "partner_id": env["res.company"]
                .browse(connected["vendor"])
                .partner_id.id,
                "company_id": connected["buyer"],
            }
        )
        message = env["k2k.message"].create(
            {
                "name": "Cancellation of a purchase order",
                "connection_id": connected["connection"],
                "message_type": "order_cancel",
                "document_uid": uuid.uuid4().hex,
                "res_model": "purchase.order",
                "res_id": order.id,
                "payload": {"purchase_order_name": order.name},
            }
        )
        message_id = message.id
        cr.commit()

    start = threading.Barrier(2)

    def worker():
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            start.wait(timeout=30)
            env["k2k.message"]._cron_process_messages()
            time.sleep(0.5)  # hold the row lock while the other worker looks
            cr.commit()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with registry.cursor() as cr:
        cr.execute(
            "SELECT state, attempt_count FROM k2k_message WHERE id = %s", [message_id]
        )
        assert cr.fetchone() == ("applied", 1)
