# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The demo data beside Odoo's own: it adds its two companies and their
story, and leaves the administrator in the company he was in (Odoo's own
tests, run on a database with demo data, expect him there)."""

from odoo.tests import TransactionCase, tagged
from odoo.tools.convert import convert_file


@tagged("post_install", "-at_install")
class TestK2KDemo(TransactionCase):
    def test_demo_leaves_the_administrator_in_his_company(self):
        admin = self.env.ref("base.user_admin")
        company = admin.company_id
        convert_file(
            self.env,
            "k2k_network",
            "demo/k2k_demo.xml",
            {},
            mode="init",
            noupdate=True,
            kind="demo",
        )
        vendor = self.env.ref("k2k_network.demo_company_vendor")
        buyer = self.env.ref("k2k_network.demo_company_buyer")
        self.assertEqual(admin.company_id, company)
        # He may still open both, as the link scripts/demo.sh prints does.
        self.assertLessEqual(vendor | buyer, admin.company_ids)
        # The demo's story was told all the same.
        self.assertTrue(
            self.env.ref("k2k_network.demo_purchase_order").k2k_sale_order_ref
        )
        self.assertTrue(
            self.env["account.move"].search(
                [("company_id", "=", buyer.id), ("k2k_approval_state", "=", "disputed")]
            )
        )
