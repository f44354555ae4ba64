# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The migrations, each on a database put back in the shape of the version
before (DDL is transactional: the test's rollback undoes it)."""

import os

from odoo.modules.migration import load_script
from odoo.tests import tagged

from .. import wire
from .common import make_remote_vendor_connection
from .common_flow import K2KFlowCommon


def _script(version, stage="pre"):
    return os.path.join(
        os.path.dirname(__file__), "..", "migrations", version, f"{stage}-migration.py"
    )


SCRIPT = _script("18.0.1.1.0")


@tagged("post_install", "-at_install")
class TestK2KMigration(K2KFlowCommon):
    def _back_to_1_0(self, invoice_message, order_message, po, so_line):
        """The columns and values as 18.0.1.0.0 had them."""
        cr = self.env.cr
        self.env.flush_all()
        cr.execute(
            "ALTER TABLE k2k_connection RENAME COLUMN connection_uid TO remote_uid"
        )
        cr.execute(
            "ALTER TABLE k2k_message ADD COLUMN vendor_move_id int4, "
            "ADD COLUMN buyer_move_id int4, ADD COLUMN purchase_order_id int4, "
            "ADD COLUMN sale_order_id int4"
        )
        cr.execute(
            "UPDATE k2k_message SET vendor_move_id = res_id, "
            "buyer_move_id = partner_res_id WHERE id = %s",
            [invoice_message.id],
        )
        cr.execute(
            "UPDATE k2k_message SET purchase_order_id = res_id, "
            "sale_order_id = partner_res_id WHERE id = %s",
            [order_message.id],
        )
        cr.execute(
            "UPDATE k2k_message SET res_model = NULL, res_id = NULL, "
            "partner_res_model = NULL, partner_res_id = NULL, "
            "partner_reference = NULL"
        )
        cr.execute(
            "ALTER TABLE k2k_message DROP COLUMN res_model, DROP COLUMN res_id, "
            "DROP COLUMN partner_res_model, DROP COLUMN partner_res_id, "
            "DROP COLUMN partner_reference"
        )
        cr.execute(
            "UPDATE k2k_message SET state = 'queued', payload = '{\"lines\": []}' "
            "WHERE id = %s",
            [invoice_message.id],
        )
        cr.execute(
            "INSERT INTO k2k_message (name, connection_id, vendor_company_id, "
            "buyer_company_id, message_type, document_uid, revision, state) "
            "VALUES ('old', %s, %s, %s, 'cancel', 'old', 1, 'applied') RETURNING id",
            [self.connection.id, self.vendor.id, self.buyer.id],
        )
        old_cancel_id = cr.fetchone()[0]
        cr.execute("ALTER TABLE purchase_order_line DROP COLUMN k2k_line_uid")
        cr.execute(
            "ALTER TABLE sale_order_line ALTER COLUMN k2k_purchase_line_ref "
            "TYPE int4 USING NULL"
        )
        cr.execute(
            "UPDATE sale_order_line SET k2k_purchase_line_ref = %s WHERE id = %s",
            [po.order_line[0].id, so_line.id],
        )
        self.env.invalidate_all()
        return old_cancel_id

    def test_migration_from_1_0(self):
        po, invoice, bill = self._full_flow()
        so = po.k2k_sale_order_id
        invoice_message = invoice.k2k_message_ids
        order_message = self.env["k2k.message"].search(
            [("res_model", "=", "purchase.order"), ("res_id", "=", po.id)]
        )
        uid = self.connection.connection_uid
        old_cancel_id = self._back_to_1_0(
            invoice_message, order_message, po, so.order_line[0]
        )

        load_script(SCRIPT, "k2k_migration").migrate(self.env.cr, "18.0.1.0.0")
        self.env.invalidate_all()

        self.assertEqual(self.connection.connection_uid, uid)
        old_cancel = self.env["k2k.message"].browse(old_cancel_id)
        self.assertEqual(old_cancel.message_type, "invoice_cancel")
        self.assertEqual(invoice_message.document_ref, invoice)
        self.assertEqual(invoice_message.partner_document_ref, bill)
        self.assertFalse(invoice_message.payload, "an unsent payload is rebuilt")
        self.assertEqual(order_message.document_ref, po)
        self.assertEqual(order_message.partner_reference, so.name)
        self.assertEqual(po.k2k_sale_order_id, so)
        self.assertEqual(so.k2k_purchase_order_id, po)
        self.assertEqual(bill.k2k_vendor_move_id, invoice)
        # Lines keep being named the same on both sides: the buyer's old id.
        ref = str(po.order_line[0].id)
        self.assertEqual(po.order_line[0].k2k_line_uid, ref)
        self.assertEqual(so.order_line[0].k2k_purchase_line_ref, ref)

    def test_migration_from_1_1_keeps_running_connections_working(self):
        partner = self.env["res.partner"].create({"name": "Far Buyer"})
        vals = {
            "transport": "http",
            "local_role": "vendor",
            "vendor_company_id": self.vendor.id,
            "buyer_partner_id": partner.id,
            "remote_url": "https://far.example.com",
        }
        running = self.env["k2k.connection"].create(
            dict(vals, connection_uid="running")
        )
        running.state = "active"
        inviting = self.env["k2k.connection"].create(
            dict(vals, connection_uid="inviting")
        )
        cr = self.env.cr
        self.env.flush_all()
        # 18.0.1.1.0: one shared secret, codes that never expired.
        cr.execute("ALTER TABLE k2k_connection ADD COLUMN remote_secret varchar")
        cr.execute("ALTER TABLE k2k_connection DROP COLUMN inbound_key")
        cr.execute("ALTER TABLE k2k_connection DROP COLUMN outbound_key")
        cr.execute(
            "UPDATE k2k_connection SET remote_secret = 'shared-' || connection_uid, "
            "invitation_code = 'K2K1.old' WHERE id IN %s",
            [(running.id, inviting.id)],
        )

        load_script(_script("18.0.1.2.0"), "k2k_migration_keys").migrate(
            cr, "18.0.1.1.0"
        )
        self.env.invalidate_all()

        self.assertEqual(running.inbound_key, "shared-running")
        self.assertEqual(running.outbound_key, "shared-running")
        self.assertFalse(running.invitation_code)
        self.assertFalse(inviting.inbound_key or inviting.invitation_secret)
        self.assertFalse(inviting.invitation_code, "an old code is withdrawn")
        cr.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_name = 'k2k_connection' AND column_name = 'remote_secret'"
        )
        self.assertFalse(cr.fetchall(), "the shared secret is gone")

    def test_migration_from_1_2_keeps_existing_k2k_prices_unflagged(self):
        # Under 18.0.1.2.0 a K2K order's lines held the buyer's price.
        po = self._buyer_po([(self.buyer_rose, 10, 0.75)])
        so = po.k2k_sale_order_id
        so_line = so.order_line
        cr = self.env.cr
        self.env.flush_all()
        cr.execute(
            "UPDATE sale_order_line SET price_unit = 0.75 WHERE id = %s", [so_line.id]
        )
        for table, column in (
            ("sale_order_line", "k2k_buyer_price_unit"),
            ("sale_order_line", "k2k_buyer_discount"),
            ("sale_order_line", "k2k_price_differs"),
            ("sale_order", "k2k_price_differs"),
        ):
            cr.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

        load_script(_script("18.0.1.3.0"), "k2k_migration_prices").migrate(
            cr, "18.0.1.2.0"
        )
        self.env.invalidate_all()

        self.assertAlmostEqual(so_line.k2k_buyer_price_unit, 0.75)
        self.assertFalse(so_line.k2k_price_differs)
        self.assertFalse(so.k2k_price_differs)

    def test_migration_from_1_3_gives_existing_connections_a_history(self):
        remote = make_remote_vendor_connection(
            self.env, self.buyer, "Migrated Vendor", wire.new_secret()
        )
        cr = self.env.cr
        self.env.flush_all()
        # Under 18.0.1.3.0 there were no histories.
        cr.execute("UPDATE k2k_connection SET history_uid = NULL, database_oid = NULL")
        load_script(_script("18.0.1.4.0", "post"), "k2k_migration_history").migrate(
            cr, "18.0.1.3.0"
        )
        self.env.invalidate_all()
        self.assertRegex(remote.history_uid, "^[0-9a-f]{32}$")
        self.assertEqual(remote.database_oid, remote._k2k_get_database_oid())
        self.assertFalse(self.connection.history_uid, "one database: no history")

    def test_migration_from_1_4_keeps_telling_where_histories_began(self):
        remote = make_remote_vendor_connection(
            self.env, self.buyer, "Migrated Vendor", wire.new_secret()
        )
        partner = wire.new_uid()
        cr = self.env.cr
        self.env.flush_all()
        # Under 18.0.1.4.0 the history's start was told in any partner history.
        cr.execute(
            "UPDATE k2k_connection SET partner_history_uid = %s, "
            "history_since_seen = 4, history_since_seen_in = NULL WHERE id = %s",
            (partner, remote.id),
        )
        load_script(_script("18.0.1.5.0", "post"), "k2k_migration_seen_in").migrate(
            cr, "18.0.1.4.0"
        )
        self.env.invalidate_all()
        position = remote._k2k_get_position()
        self.assertEqual((position["seen_in"], position["since_seen"]), (partner, 4))
