# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models, tools

from .. import wire


class K2KConnection(models.Model):
    """What each side of a connection allows, what is in effect, and who is
    connected to whom for the automations."""

    _inherit = "k2k.connection"

    # Automation status, read from each side's settings.
    vendor_invoice_sync_enabled = fields.Boolean(
        string="Vendor Allows Invoice Synchronization",
        compute="_compute_automation_status",
    )
    buyer_invoice_upload_enabled = fields.Boolean(
        string="Buyer Allows Automatic Upload",
        compute="_compute_automation_status",
    )
    buyer_split_ecommerce_po_enabled = fields.Boolean(
        string="Buyer Splits Web-Shop Purchase Orders",
        compute="_compute_automation_status",
    )
    invoice_sync_in_effect = fields.Boolean(
        string="Invoice Synchronization in Effect",
        compute="_compute_automation_status",
    )
    split_ecommerce_po_in_effect = fields.Boolean(
        string="Separate Web-Shop Purchase Orders in Effect",
        compute="_compute_automation_status",
    )
    invoice_sync_status = fields.Char(
        string="Invoice Synchronization",
        compute="_compute_automation_status",
    )
    split_ecommerce_po_status = fields.Char(
        string="Separate Web-Shop Purchase Orders",
        compute="_compute_automation_status",
    )

    @api.depends(
        "state",
        "vendor_accepted_date",
        "buyer_accepted_date",
        "vendor_company_id.k2k_invoice_sync_enabled",
        "buyer_company_id.k2k_invoice_upload_enabled",
        "buyer_company_id.k2k_split_ecommerce_po_enabled",
    )
    @api.depends_context("lang")
    def _compute_automation_status(self):
        for connection in self:
            settings = connection._get_automation_settings()
            vendor_sync = settings["vendor_invoice_sync_enabled"]
            buyer_upload = settings["buyer_invoice_upload_enabled"]
            buyer_split = settings["buyer_split_ecommerce_po_enabled"]
            active = connection.state == "active"
            connection.vendor_invoice_sync_enabled = vendor_sync
            connection.buyer_invoice_upload_enabled = buyer_upload
            connection.buyer_split_ecommerce_po_enabled = buyer_split
            connection.invoice_sync_in_effect = active and vendor_sync and buyer_upload
            connection.split_ecommerce_po_in_effect = active and buyer_split
            connection.invoice_sync_status = connection._get_invoice_sync_status(
                vendor_sync, buyer_upload
            )
            connection.split_ecommerce_po_status = (
                connection._get_split_ecommerce_po_status(buyer_split)
            )

    def _get_automation_settings(self):
        """Return each side's automation switches.

        A user of one company must see whether the partner company opted in
        without being allowed in that company, hence the companies' switches
        are read as the superuser.
        """
        self.ensure_one()
        vendor = self._get_side_settings("vendor")
        buyer = self._get_side_settings("buyer")
        return {
            "vendor_invoice_sync_enabled": vendor["invoice_sync_enabled"],
            "buyer_invoice_upload_enabled": buyer["invoice_upload_enabled"],
            "buyer_split_ecommerce_po_enabled": buyer["split_ecommerce_po_enabled"],
        }

    def _get_side_settings(self, side):
        """The switches of one side, read from its company."""
        self.ensure_one()
        company = self[f"{side}_company_id"]
        if company:
            return company.sudo()._k2k_get_automation_settings()
        return dict.fromkeys(wire.AUTOMATION_KEYS, False)

    def _get_invoice_sync_status(self, vendor_sync, buyer_upload):
        self.ensure_one()
        vendor = self._get_vendor_display_name()
        buyer = self._get_buyer_display_name()
        if vendor_sync and buyer_upload:
            if self.state != "active":
                return self._get_inactive_reason()
            return self.env._(
                "In effect: invoices of K2K orders posted by %(vendor)s reach "
                "%(buyer)s as vendor bills.",
                vendor=vendor,
                buyer=buyer,
            )
        if vendor_sync:
            return self.env._(
                "Waiting for %(buyer)s to allow automatic upload.", buyer=buyer
            )
        if buyer_upload:
            return self.env._(
                "Waiting for %(vendor)s to allow automatic invoice synchronization.",
                vendor=vendor,
            )
        return self.env._(
            "Off: neither %(vendor)s allows invoice synchronization nor "
            "%(buyer)s allows automatic upload.",
            vendor=vendor,
            buyer=buyer,
        )

    def _get_split_ecommerce_po_status(self, buyer_split):
        self.ensure_one()
        buyer = self._get_buyer_display_name()
        if not buyer_split:
            return self.env._(
                "Off: %(buyer)s lets web-shop purchases join open purchase orders.",
                buyer=buyer,
            )
        if self.state != "active":
            return self._get_inactive_reason()
        return self.env._(
            "In effect: each web-shop purchase at %(buyer)s gets its own "
            "purchase order.",
            buyer=buyer,
        )

    # -- helpers for the automations --------------------------------------

    @api.model
    def _get_active_for_supplier(self, buyer_company, partner):
        """The active connection through which ``buyer_company`` buys from
        ``partner`` (its commercial entity), if any."""
        connection_id = self._get_active_id_for_supplier(
            buyer_company.id, partner.commercial_partner_id.id
        )
        return self.browse(connection_id)

    @api.model
    @tools.ormcache("buyer_company_id", "partner_id")
    def _get_active_id_for_supplier(self, buyer_company_id, partner_id):
        # Asked for every purchase need and every purchase order confirmed;
        # connections change seldom, and then the cache is cleared. The cache
        # is shared by all users, hence the search as the superuser; the
        # record is returned in the caller's environment.
        connection = self.sudo().search(
            [
                ("state", "=", "active"),
                ("buyer_company_id", "=", buyer_company_id),
                ("vendor_partner_id", "=", partner_id),
            ],
            limit=1,
        )
        return connection.id or False

    @api.model_create_multi
    def create(self, vals_list):
        connections = super().create(vals_list)
        self.env.registry.clear_cache()
        return connections

    def write(self, vals):
        result = super().write(vals)
        if {"state", "buyer_company_id", "vendor_partner_id"}.intersection(vals):
            self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result
