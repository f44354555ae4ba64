# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger
from odoo.tools.translate import translate_sql_constraint

from .common import K2KCommon


@tagged("post_install", "-at_install")
class TestK2KConnection(K2KCommon):
    def test_defaults(self):
        connection = self._create_connection()
        self.assertEqual(connection.state, "draft")
        self.assertEqual(connection.name, "K2K Test Vendor → K2K Test Buyer")
        self.assertEqual(connection.vendor_partner_id, self.vendor_company.partner_id)
        self.assertEqual(connection.buyer_partner_id, self.buyer_company.partner_id)

    def test_handshake_needs_both_sides(self):
        connection = self._create_connection()
        connection.with_user(self.vendor_admin).action_accept_as_vendor()
        self.assertEqual(connection.state, "draft", "one side is not a handshake")
        self.assertEqual(connection.vendor_accepted_by_id, self.vendor_admin)
        self.assertTrue(connection.vendor_accepted_date)
        with self.assertRaisesRegex(UserError, "already accepted"):
            connection.with_user(self.vendor_admin).action_accept_as_vendor()
        connection.with_user(self.buyer_admin).action_accept_as_buyer()
        self.assertEqual(connection.state, "active")
        self.assertEqual(connection.buyer_accepted_by_id, self.buyer_admin)
        bodies = connection.message_ids.mapped("body")
        self.assertTrue(any("connection is active" in body for body in bodies))

    def test_buyer_first_then_vendor(self):
        connection = self._create_connection()
        connection.with_user(self.buyer_admin).action_accept_as_buyer()
        self.assertEqual(connection.state, "draft")
        connection.with_user(self.vendor_admin).action_accept_as_vendor()
        self.assertEqual(connection.state, "active")

    def test_only_a_user_of_that_company_accepts(self):
        connection = self._create_connection()
        with self.assertRaisesRegex(UserError, "Only a user of K2K Test Buyer"):
            connection.with_user(self.vendor_admin).action_accept_as_buyer()
        with self.assertRaisesRegex(UserError, "Only a user of K2K Test Vendor"):
            connection.with_user(self.buyer_admin).action_accept_as_vendor()
        self.assertFalse(connection.buyer_accepted_date)
        self.assertFalse(connection.vendor_accepted_date)

    def test_active_connection_lookup_follows_state_changes(self):
        # The lookup is cached; suspending or resuming must show at once.
        connection = self._activate(self._create_connection())
        Connection = self.env["k2k.connection"]
        vendor_partner = self.vendor_company.partner_id
        found = Connection._get_active_for_supplier(self.buyer_company, vendor_partner)
        self.assertEqual(found, connection)
        connection.action_suspend()
        self.assertFalse(
            Connection._get_active_for_supplier(self.buyer_company, vendor_partner)
        )
        connection.action_resume()
        self.assertEqual(
            Connection._get_active_for_supplier(self.buyer_company, vendor_partner),
            connection,
        )

    def test_suspend_resume(self):
        connection = self._activate(self._create_connection())
        connection.with_user(self.buyer_admin).action_suspend()
        self.assertEqual(connection.state, "suspended")
        with self.assertRaisesRegex(UserError, "Only an active connection"):
            connection.action_suspend()
        connection.with_user(self.vendor_admin).action_resume()
        self.assertEqual(connection.state, "active")
        with self.assertRaisesRegex(UserError, "Only a suspended connection"):
            connection.action_resume()

    def test_cannot_accept_twice_once_active(self):
        connection = self._activate(self._create_connection())
        with self.assertRaisesRegex(UserError, "waiting for its handshake"):
            connection.action_accept_as_vendor()

    @mute_logger("odoo.sql_db")
    def test_one_connection_per_pair(self):
        self._create_connection()
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            self._create_connection()
        # The reverse direction is another pair, and allowed.
        reverse = self.env["k2k.connection"].create(
            {
                "vendor_company_id": self.buyer_company.id,
                "buyer_company_id": self.vendor_company.id,
            }
        )
        self.assertEqual(reverse.state, "draft")

    @mute_logger("odoo.sql_db")
    def test_no_self_connection(self):
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["k2k.connection"].create(
                {
                    "vendor_company_id": self.vendor_company.id,
                    "buyer_company_id": self.vendor_company.id,
                }
            )
        connection = self._create_connection()
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            connection.buyer_company_id = self.vendor_company
            connection.flush_recordset()

    def test_local_connection_needs_both_companies(self):
        with self.assertRaisesRegex(
            ValidationError, "needs a vendor company and a buyer company"
        ):
            self.env["k2k.connection"].create(
                {"vendor_company_id": self.vendor_company.id}
            )

    def test_multi_company_visibility(self):
        connection = self._create_connection()
        Connection = self.env["k2k.connection"]
        outsider = self._make_user(
            "k2k_outsider", self.other_company, "base.group_system"
        )
        self.assertFalse(Connection.with_user(outsider).search([]))
        with self.assertRaises(AccessError):
            connection.with_user(outsider).read(["name"])
        for user in (self.vendor_admin, self.buyer_admin):
            self.assertEqual(Connection.with_user(user).search([]), connection)

    def test_read_only_for_purchase_and_billing_users(self):
        connection = self._create_connection()
        purchaser = self._make_user(
            "k2k_purchaser", self.buyer_company, "purchase.group_purchase_user"
        )
        biller = self._make_user(
            "k2k_biller", self.vendor_company, "account.group_account_invoice"
        )
        for user in (purchaser, biller):
            self.assertEqual(
                connection.with_user(user).invoice_sync_status,
                connection.invoice_sync_status,
            )
            with self.assertRaises(AccessError):
                connection.with_user(user).write(
                    {"vendor_partner_id": user.partner_id.id}
                )
            with self.assertRaises(AccessError):
                connection.with_user(user).action_suspend()
        menu = self.env.ref("k2k_network.menu_k2k_connection")
        for user in (purchaser, biller, self.vendor_admin):
            visible = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
            self.assertIn(menu.id, visible, user.login)
        portal = self._make_user("k2k_plain", self.buyer_company, "base.group_user")
        self.assertNotIn(
            menu.id, self.env["ir.ui.menu"].with_user(portal)._visible_menu_ids()
        )


@tagged("post_install", "-at_install")
class TestK2KAutomationStatus(K2KCommon):
    def _switch(self, vendor_sync=False, buyer_upload=False, buyer_split=False):
        self.vendor_company.k2k_invoice_sync_enabled = vendor_sync
        self.buyer_company.k2k_invoice_upload_enabled = buyer_upload
        self.buyer_company.k2k_split_ecommerce_po_enabled = buyer_split

    def test_invoice_sync_combinations(self):
        connection = self._activate(self._create_connection())
        expected = {
            (True, True): (
                True,
                "In effect: invoices of K2K orders posted by K2K Test Vendor "
                "reach K2K Test Buyer as vendor bills.",
            ),
            (True, False): (
                False,
                "Waiting for K2K Test Buyer to allow automatic upload.",
            ),
            (False, True): (
                False,
                "Waiting for K2K Test Vendor to allow automatic invoice "
                "synchronization.",
            ),
            (False, False): (
                False,
                "Off: neither K2K Test Vendor allows invoice synchronization "
                "nor K2K Test Buyer allows automatic upload.",
            ),
        }
        for (vendor_sync, buyer_upload), (in_effect, text) in expected.items():
            with self.subTest(vendor_sync=vendor_sync, buyer_upload=buyer_upload):
                self._switch(vendor_sync, buyer_upload)
                connection.invalidate_recordset()
                self.assertEqual(connection.vendor_invoice_sync_enabled, vendor_sync)
                self.assertEqual(connection.buyer_invoice_upload_enabled, buyer_upload)
                self.assertEqual(connection.invoice_sync_in_effect, in_effect)
                self.assertEqual(connection.invoice_sync_status, text)

    def test_status_seen_alike_from_both_sides(self):
        connection = self._activate(self._create_connection())
        self._switch(vendor_sync=True)
        for user in (self.vendor_admin, self.buyer_admin):
            as_user = connection.with_user(user)
            self.assertEqual(
                as_user.invoice_sync_status,
                "Waiting for K2K Test Buyer to allow automatic upload.",
            )

    def test_not_in_effect_until_handshake_or_when_suspended(self):
        self._switch(vendor_sync=True, buyer_upload=True, buyer_split=True)
        connection = self._create_connection()
        self.assertFalse(connection.invoice_sync_in_effect)
        self.assertFalse(connection.split_ecommerce_po_in_effect)
        self.assertEqual(
            connection.invoice_sync_status,
            "Not in effect: waiting for K2K Test Vendor and K2K Test Buyer to accept "
            "the connection.",
        )
        connection.with_user(self.vendor_admin).action_accept_as_vendor()
        self.assertEqual(
            connection.invoice_sync_status,
            "Not in effect: waiting for K2K Test Buyer to accept the connection.",
        )
        connection.with_user(self.buyer_admin).action_accept_as_buyer()
        self.assertTrue(connection.invoice_sync_in_effect)
        self.assertTrue(connection.split_ecommerce_po_in_effect)
        connection.action_suspend()
        self.assertFalse(connection.invoice_sync_in_effect)
        self.assertFalse(connection.split_ecommerce_po_in_effect)
        self.assertEqual(
            connection.invoice_sync_status,
            "Not in effect: the connection is suspended.",
        )

    def test_split_status(self):
        connection = self._activate(self._create_connection())
        self._switch(buyer_split=False)
        connection.invalidate_recordset()
        self.assertFalse(connection.split_ecommerce_po_in_effect)
        self.assertEqual(
            connection.split_ecommerce_po_status,
            "Off: K2K Test Buyer lets web-shop purchases join open purchase orders.",
        )
        self._switch(buyer_split=True)
        connection.invalidate_recordset()
        self.assertTrue(connection.split_ecommerce_po_in_effect)
        self.assertEqual(
            connection.split_ecommerce_po_status,
            "In effect: each web-shop purchase at K2K Test Buyer gets its own "
            "purchase order.",
        )

    def test_connection_count_on_company(self):
        self._create_connection()
        self.assertEqual(self.vendor_company.k2k_connection_count, 1)
        self.assertEqual(self.buyer_company.k2k_connection_count, 1)
        self.assertEqual(self.other_company.k2k_connection_count, 0)


@tagged("post_install", "-at_install")
class TestK2KConnectionRefusedOverRpc(K2KCommon, HttpCase):
    """What an administrator sees when the database refuses a connection
    (in the web client, or over JSON-RPC): the addon's own sentence, not
    PostgreSQL's."""

    def _create_over_rpc(self, user, values):
        """Create a connection as ``user`` through Odoo's JSON-RPC route;
        return the error the client gets."""
        self.authenticate(user.login, user.login)
        response = self.url_open(
            "/web/dataset/call_kw/k2k.connection/create",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "model": "k2k.connection",
                        "method": "create",
                        "args": [values],
                        "kwargs": {
                            "context": {"allowed_company_ids": user.company_ids.ids}
                        },
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertIn("error", response.json(), "the database refused it")
        return response.json()["error"]["data"]

    def _said(self, error, constraint):
        self.assertEqual(error["name"], "odoo.exceptions.ValidationError")
        self.assertIn(
            translate_sql_constraint(self.env.cr, constraint, "en_US"),
            error["message"],
        )

    @mute_logger("odoo.sql_db", "odoo.http")
    def test_a_second_connection_between_the_same_companies(self):
        self._create_connection()
        error = self._create_over_rpc(
            self.vendor_admin,
            {
                "vendor_company_id": self.vendor_company.id,
                "buyer_company_id": self.buyer_company.id,
            },
        )
        self._said(error, "k2k_connection_vendor_buyer_uniq")
        self.assertEqual(
            self.env["k2k.connection"].search_count(
                [("vendor_company_id", "=", self.vendor_company.id)]
            ),
            1,
        )

    @mute_logger("odoo.sql_db", "odoo.http")
    def test_a_company_connected_to_itself(self):
        error = self._create_over_rpc(
            self.vendor_admin,
            {
                "vendor_company_id": self.vendor_company.id,
                "buyer_company_id": self.vendor_company.id,
            },
        )
        self._said(error, "k2k_connection_not_self_check")
