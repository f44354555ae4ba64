# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import K2KCommon

MENUS = (
    "menu_k2k_root",
    "menu_k2k_connection",
    "menu_k2k_message",
    "menu_k2k_sale_orders",
    "menu_k2k_bills_pending",
    "menu_k2k_web_purchase_orders",
    "menu_k2k_config",
    "menu_k2k_settings",
)


@tagged("post_install", "-at_install")
class TestK2KMenusPerRole(K2KCommon):
    """Each role reaches the K2K entries it needs, and only those."""

    def _visible(self, user):
        menus = {name: self.env.ref(f"k2k_network.{name}") for name in MENUS}
        visible = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
        return {name for name, menu in menus.items() if menu.id in visible}

    def test_menus_per_role(self):
        roles = {
            "admin": (
                self.vendor_admin,
                {
                    "menu_k2k_root",
                    "menu_k2k_connection",
                    "menu_k2k_message",
                    "menu_k2k_config",
                    "menu_k2k_settings",
                },
            ),
            "purchase": (
                self._make_user(
                    "k2k_m_buyer", self.buyer_company, "purchase.group_purchase_user"
                ),
                {
                    "menu_k2k_root",
                    "menu_k2k_connection",
                    "menu_k2k_message",
                    "menu_k2k_bills_pending",
                    "menu_k2k_web_purchase_orders",
                },
            ),
            "billing": (
                self._make_user(
                    "k2k_m_biller", self.vendor_company, "account.group_account_invoice"
                ),
                {
                    "menu_k2k_root",
                    "menu_k2k_connection",
                    "menu_k2k_message",
                    "menu_k2k_bills_pending",
                },
            ),
            "sales": (
                self._make_user(
                    "k2k_m_seller",
                    self.vendor_company,
                    "sales_team.group_sale_salesman",
                ),
                {"menu_k2k_root", "menu_k2k_sale_orders"},
            ),
            "employee": (
                self._make_user(
                    "k2k_m_employee", self.other_company, "base.group_user"
                ),
                set(),
            ),
        }
        for role, (user, expected) in roles.items():
            with self.subTest(role=role):
                self.assertEqual(self._visible(user), expected)

    def test_one_company_users_see_their_side_only(self):
        connection = self._activate(self._create_connection())
        ap_clerk = self._make_user(
            "k2k_m_ap",
            self.buyer_company,
            "account.group_account_invoice,purchase.group_purchase_user",
        )
        outsider = self._make_user(
            "k2k_m_outsider",
            self.other_company,
            "account.group_account_invoice,purchase.group_purchase_user",
        )
        message = self.env["k2k.message"].create(
            {
                "name": "INV/TEST/0001",
                "connection_id": connection.id,
                "message_type": "invoice",
                "document_uid": "test/account.move/1",
            }
        )
        self.assertEqual(
            self.env["k2k.connection"].with_user(ap_clerk).search([]), connection
        )
        self.assertEqual(
            self.env["k2k.message"].with_user(ap_clerk).search([]), message
        )
        self.assertFalse(self.env["k2k.connection"].with_user(outsider).search([]))
        self.assertFalse(self.env["k2k.message"].with_user(outsider).search([]))
        with self.assertRaises(AccessError):
            message.with_user(outsider).read(["name"])
        # Read-only roles cannot create log entries or connections.
        with self.assertRaises(AccessError):
            self.env["k2k.message"].with_user(ap_clerk).create(
                {
                    "name": "forged",
                    "connection_id": connection.id,
                    "message_type": "invoice",
                    "document_uid": "forged",
                }
            )
        with self.assertRaises(AccessError):
            self.env["k2k.connection"].with_user(ap_clerk).create(
                {
                    "vendor_company_id": self.other_company.id,
                    "buyer_company_id": self.buyer_company.id,
                }
            )
