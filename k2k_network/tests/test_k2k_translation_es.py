# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .common import K2KCommon


@tagged("post_install", "-at_install")
class TestK2KSpanish(K2KCommon):
    """Many K2K users in the flower trade work in Spanish."""

    def test_spanish_user_reads_settings_and_status_in_spanish(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(
            ["k2k_network"], ["es_ES"], overwrite=True
        )
        user = self._make_user("k2k_es_admin", self.buyer_company, "base.group_system")
        user.lang = "es_ES"
        env = self.env(user=user, context={"lang": user.lang})

        labels = env["res.config.settings"].fields_get(
            ["k2k_invoice_sync_enabled", "k2k_invoice_upload_enabled"], ["string"]
        )
        self.assertEqual(
            labels["k2k_invoice_sync_enabled"]["string"],
            "Permitir la sincronización automática de facturas con la empresa "
            "compradora",
        )
        self.assertEqual(
            labels["k2k_invoice_upload_enabled"]["string"],
            "Permitir que las facturas de pedidos K2K se carguen automáticamente",
        )
        connection = self._activate(self._create_connection())
        self.vendor_company.k2k_invoice_sync_enabled = True
        self.assertEqual(
            connection.with_env(env).invoice_sync_status,
            "Esperando a que K2K Test Buyer permita la carga automática.",
        )
        self.assertEqual(
            dict(env["k2k.connection"]._fields["state"]._description_selection(env))[
                "active"
            ],
            "Activa",
        )
        # A message's type, named by the adapter that carries it, in each
        # reader's language.
        field = env["k2k.message"]._fields["message_type"]
        spanish = dict(field._description_selection(env))
        english = dict(field._description_selection(env(context={"lang": "en_US"})))
        self.assertEqual(spanish["invoice_cancel"], "Cancelación de factura")
        self.assertEqual(english["invoice_cancel"], "Invoice Cancellation")
