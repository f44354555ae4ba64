# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    k2k_invoice_sync_enabled = fields.Boolean(
        related="company_id.k2k_invoice_sync_enabled",
        readonly=False,
    )
    k2k_invoice_upload_enabled = fields.Boolean(
        related="company_id.k2k_invoice_upload_enabled",
        readonly=False,
    )
    k2k_split_ecommerce_po_enabled = fields.Boolean(
        related="company_id.k2k_split_ecommerce_po_enabled",
        readonly=False,
    )
    k2k_connection_count = fields.Integer(
        related="company_id.k2k_connection_count",
    )
