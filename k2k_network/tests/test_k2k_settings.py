# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from .common import K2KCommon

AUTOMATIONS = (
    "k2k_invoice_sync_enabled",
    "k2k_invoice_upload_enabled",
    "k2k_split_ecommerce_po_enabled",
)


@tagged("post_install", "-at_install")
class TestK2KSettings(K2KCommon):
    def _settings(self, user, company):
        return (
            self.env["res.config.settings"]
            .with_user(user)
            .with_company(company)
            .with_context(allowed_company_ids=company.ids)
        )

    def test_off_by_default(self):
        for company in (self.vendor_company, self.buyer_company):
            for field in AUTOMATIONS:
                self.assertFalse(
                    company[field], f"{field} must be off on {company.name}"
                )

    def test_each_toggle_saved_per_company(self):
        for field in AUTOMATIONS:
            with self.subTest(field=field):
                settings = self._settings(
                    self.vendor_admin, self.vendor_company
                ).create({field: True})
                settings.execute()
                self.assertTrue(self.vendor_company[field])
                self.assertFalse(
                    self.buyer_company[field], "the other company stays as it was"
                )
                reread = self._settings(self.vendor_admin, self.vendor_company).create(
                    {}
                )
                self.assertTrue(
                    reread[field], "the saved value is read back by Settings"
                )
                # The buyer's admin reads its own, unchanged, value.
                buyer_view = self._settings(
                    self.buyer_admin, self.buyer_company
                ).create({})
                self.assertFalse(buyer_view[field])
                settings[field] = False
                settings.execute()
                self.assertFalse(self.vendor_company[field])

    def test_an_admin_turns_them_on_in_the_settings_form(self):
        # Through the form Settings shows, as the buyer's administrator
        # does: each automation is in it, editable, and saved to that
        # company only; each explains itself in a help text of its own.
        settings = Form(self._settings(self.buyer_admin, self.buyer_company))
        for field in AUTOMATIONS:
            settings[field] = True
        settings.save().execute()
        for field in AUTOMATIONS:
            self.assertTrue(self.buyer_company[field])
            self.assertFalse(self.vendor_company[field])
        described = self.env["res.config.settings"].fields_get(
            list(AUTOMATIONS), ["string", "help"]
        )
        for attribute in ("string", "help"):
            texts = {described[field].get(attribute) for field in AUTOMATIONS}
            self.assertEqual(len(texts - {None, ""}), len(AUTOMATIONS), attribute)

    def test_non_admin_cannot_change(self):
        # An "Access Rights" manager may write on companies, but not the
        # K2K automations; a purchase user may not even open Settings.
        manager = self._make_user(
            "k2k_erp_manager",
            self.buyer_company,
            "base.group_erp_manager,purchase.group_purchase_manager",
        )
        for field in AUTOMATIONS:
            with self.subTest(field=field), self.assertRaises(AccessError):
                self.buyer_company.with_user(manager).write({field: True})
            with (
                self.subTest(field=field, via="settings"),
                self.assertRaises(AccessError),
            ):
                self._settings(manager, self.buyer_company).create(
                    {field: True}
                ).execute()
        # Other company fields stay writable for that manager.
        self.buyer_company.with_user(manager).write({"email": "ap@buyer.example.com"})
        self.assertEqual(self.buyer_company.email, "ap@buyer.example.com")
        for field in AUTOMATIONS:
            self.assertFalse(self.buyer_company[field])
