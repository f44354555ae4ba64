# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import AccessError

from .. import wire

# The three automations, in the order the settings show them, keyed as they
# travel to a partner in another database (wire.AUTOMATION_KEYS). Each is a
# per-company opt-in that only Settings administrators may change.
K2K_AUTOMATION_KEYS = {key: f"k2k_{key}" for key in wire.AUTOMATION_KEYS}
K2K_AUTOMATION_FIELDS = tuple(K2K_AUTOMATION_KEYS.values())


class ResCompany(models.Model):
    _inherit = "res.company"

    k2k_invoice_sync_enabled = fields.Boolean(
        string="Allow Automatic Invoice Synchronization with the Buyer Company",
        help="Vendor side: when an invoice of a K2K order is posted, upload it "
        "to the buyer company for reconciliation.",
    )
    k2k_invoice_upload_enabled = fields.Boolean(
        string="Allow Invoices coming from K2K orders to be automatically uploaded",
        help="Buyer side: posted invoices of K2K orders land here as vendor "
        "bills, pending approval by procurement. The vendor must allow "
        "synchronization too.",
    )
    k2k_split_ecommerce_po_enabled = fields.Boolean(
        string="Automatically create separate Purchase Orders for E-Commerce purchases",
        help="Buyer side: each web-shop purchase gets a purchase order of its "
        "own instead of joining an open draft order for the same vendor.",
    )

    def _k2k_check_automation_access(self, vals):
        """Only Settings administrators switch K2K automations.

        ``res.company`` itself is writable by "Access Rights" managers, which
        is wider than the brief allows, hence this explicit check.
        """
        if self.env.su or not set(vals).intersection(K2K_AUTOMATION_FIELDS):
            return
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(
                self.env._(
                    "Only Settings administrators can change the K2K Network "
                    "automations. Ask an administrator to switch them for you."
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._k2k_check_automation_access(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._k2k_check_automation_access(vals)
        result = super().write(vals)
        if vals.get("k2k_invoice_upload_enabled") or vals.get(
            "k2k_invoice_sync_enabled"
        ):
            # Invoices that were waiting for this company's consent go now.
            self._k2k_requeue_waiting_messages()
        if set(vals).intersection(K2K_AUTOMATION_FIELDS):
            # Partners learn it from us, not by guessing.
            self.env["k2k.connection"].search(
                [
                    "|",
                    ("vendor_company_id", "in", self.ids),
                    ("buyer_company_id", "in", self.ids),
                ]
            )._k2k_notify_partner()
        return result

    def _k2k_get_automation_settings(self):
        """The three switches, keyed as they travel to a partner."""
        self.ensure_one()
        return {key: self[field] for key, field in K2K_AUTOMATION_KEYS.items()}

    def _k2k_requeue_waiting_messages(self):
        self.env["k2k.message"]._k2k_requeue_waiting(
            [
                "|",
                ("buyer_company_id", "in", self.ids),
                ("vendor_company_id", "in", self.ids),
            ]
        )

    k2k_connection_count = fields.Integer(
        string="K2K Connections",
        compute="_compute_k2k_connection_count",
    )

    def _compute_k2k_connection_count(self):
        Connection = self.env["k2k.connection"]
        for company in self:
            company.k2k_connection_count = Connection.search_count(
                [
                    "|",
                    ("vendor_company_id", "=", company.id),
                    ("buyer_company_id", "=", company.id),
                ]
            )
