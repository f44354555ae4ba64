# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class K2KConnection(models.Model):
    """A link between one vendor company and one buyer company.

    Nothing flows through a connection before both sides accepted it (the
    handshake). Each side is described by a company (when it lives in this
    database) and by the partner through which the other side sees it; the
    ``transport`` tells how messages reach the other side, so that a partner
    in another database only adds a transport and fills one side with remote
    coordinates instead of a company.
    """

    _name = "k2k.connection"
    _description = "K2K Connection"
    _inherit = ["mail.thread"]
    _order = "state, name, id"
    _check_company_auto = False

    name = fields.Char(compute="_compute_name", store=True, readonly=True)
    state = fields.Selection(
        [
            ("draft", "Waiting for handshake"),
            ("active", "Active"),
            ("suspended", "Suspended"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
        index=True,
    )
    transport = fields.Selection(
        [("local", "Same database")],
        default="local",
        required=True,
        help="How K2K messages travel between the two companies.",
    )
    vendor_company_id = fields.Many2one(
        "res.company",
        ondelete="restrict",
        index=True,
        tracking=True,
        help="The company that sells (usually an importer).",
    )
    buyer_company_id = fields.Many2one(
        "res.company",
        ondelete="restrict",
        index=True,
        tracking=True,
        help="The company that buys (usually a wholesaler).",
    )
    vendor_partner_id = fields.Many2one(
        "res.partner",
        string="Vendor as Supplier",
        ondelete="restrict",
        compute="_compute_partners",
        store=True,
        readonly=False,
        help="The supplier through which the buyer sees the vendor: purchase "
        "orders to this partner become K2K orders.",
    )
    buyer_partner_id = fields.Many2one(
        "res.partner",
        string="Buyer as Customer",
        ondelete="restrict",
        compute="_compute_partners",
        store=True,
        readonly=False,
        help="The customer through which the vendor sees the buyer: K2K orders "
        "and invoices are made out to this partner.",
    )
    vendor_accepted_by_id = fields.Many2one(
        "res.users", string="Accepted by (Vendor)", readonly=True, copy=False
    )
    vendor_accepted_date = fields.Datetime(
        string="Accepted on (Vendor)", readonly=True, copy=False
    )
    buyer_accepted_by_id = fields.Many2one(
        "res.users", string="Accepted by (Buyer)", readonly=True, copy=False
    )
    buyer_accepted_date = fields.Datetime(
        string="Accepted on (Buyer)", readonly=True, copy=False
    )
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

    _sql_constraints = [
        (
            "vendor_buyer_uniq",
            "UNIQUE(vendor_company_id, buyer_company_id)",
            "A K2K connection between this vendor and this buyer already exists.",
        ),
        (
            "not_self_check",
            "CHECK(vendor_company_id IS NULL OR buyer_company_id IS NULL "
            "OR vendor_company_id != buyer_company_id)",
            "A company cannot be connected to itself: choose two different "
            "companies as vendor and buyer.",
        ),
    ]

    # -- computes ----------------------------------------------------------

    @api.depends("vendor_company_id.name", "buyer_company_id.name")
    def _compute_name(self):
        for connection in self:
            connection.name = self.env._(
                "%(vendor)s → %(buyer)s",
                vendor=connection._get_vendor_display_name(),
                buyer=connection._get_buyer_display_name(),
            )

    @api.depends("vendor_company_id", "buyer_company_id")
    def _compute_partners(self):
        # In one database the company's own partner is the natural counterpart.
        for connection in self:
            if connection.vendor_company_id and not connection.vendor_partner_id:
                connection.vendor_partner_id = connection.vendor_company_id.partner_id
            if connection.buyer_company_id and not connection.buyer_partner_id:
                connection.buyer_partner_id = connection.buyer_company_id.partner_id

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

    # -- override points ---------------------------------------------------

    def _get_vendor_display_name(self):
        self.ensure_one()
        return self.vendor_company_id.sudo().name or self.env._("Vendor")

    def _get_buyer_display_name(self):
        self.ensure_one()
        return self.buyer_company_id.sudo().name or self.env._("Buyer")

    def _get_automation_settings(self):
        """Return each side's automation switches.

        Read with sudo: a user of one company must see whether the partner
        company opted in without being allowed in that company. A remote
        transport answers this from what the partner told it.
        """
        self.ensure_one()
        vendor = self.vendor_company_id.sudo()
        buyer = self.buyer_company_id.sudo()
        return {
            "vendor_invoice_sync_enabled": vendor.k2k_invoice_sync_enabled,
            "buyer_invoice_upload_enabled": buyer.k2k_invoice_upload_enabled,
            "buyer_split_ecommerce_po_enabled": buyer.k2k_split_ecommerce_po_enabled,
        }

    def _get_inactive_reason(self):
        self.ensure_one()
        if self.state == "suspended":
            return self.env._("Not in effect: the connection is suspended.")
        if self.state == "draft":
            waiting = []
            if not self.vendor_accepted_date:
                waiting.append(self._get_vendor_display_name())
            if not self.buyer_accepted_date:
                waiting.append(self._get_buyer_display_name())
            return self.env._(
                "Not in effect: waiting for %(companies)s to accept the connection.",
                companies=self.env._(" and ").join(waiting),
            )
        return ""

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

    # -- constraints -------------------------------------------------------

    @api.constrains("transport", "vendor_company_id", "buyer_company_id")
    def _check_companies(self):
        for connection in self:
            if connection.transport == "local" and not (
                connection.vendor_company_id and connection.buyer_company_id
            ):
                raise ValidationError(
                    self.env._(
                        "A connection in this database needs a vendor company and "
                        "a buyer company."
                    )
                )

    # -- handshake ---------------------------------------------------------

    def _check_user_in_company(self, company):
        if not self.env.su and company not in self.env.user.company_ids:
            raise UserError(
                self.env._(
                    "Only a user of %(company)s can accept this connection on its "
                    "behalf. Ask someone of %(company)s to accept it.",
                    company=company.sudo().name,
                )
            )

    def action_accept_as_vendor(self):
        self.check_access("write")
        for connection in self:
            connection._accept("vendor")

    def action_accept_as_buyer(self):
        self.check_access("write")
        for connection in self:
            connection._accept("buyer")

    def _accept(self, side):
        self.ensure_one()
        if self.state != "draft":
            raise UserError(
                self.env._(
                    "Only a connection waiting for its handshake can be accepted."
                )
            )
        company = self[f"{side}_company_id"]
        self._check_user_in_company(company)
        if self[f"{side}_accepted_date"]:
            raise UserError(
                self.env._(
                    "%(company)s has already accepted this connection.",
                    company=company.sudo().name,
                )
            )
        self.write(
            {
                f"{side}_accepted_by_id": self.env.user.id,
                f"{side}_accepted_date": fields.Datetime.now(),
            }
        )
        self.message_post(
            body=self.env._(
                "%(user)s accepted the connection for %(company)s.",
                user=self.env.user.name,
                company=company.sudo().name,
            )
        )
        if self.vendor_accepted_date and self.buyer_accepted_date:
            self._activate()

    def _activate(self):
        self.ensure_one()
        self.state = "active"
        self._k2k_requeue_waiting_messages()
        self.message_post(
            body=self.env._("Both companies accepted: the connection is active.")
        )

    def action_suspend(self):
        self.check_access("write")
        for connection in self:
            if connection.state != "active":
                raise UserError(
                    self.env._("Only an active connection can be suspended.")
                )
        self.state = "suspended"

    def action_resume(self):
        self.check_access("write")
        for connection in self:
            if connection.state != "suspended":
                raise UserError(
                    self.env._("Only a suspended connection can be resumed.")
                )
        self.state = "active"
        self._k2k_requeue_waiting_messages()

    def _k2k_requeue_waiting_messages(self):
        self.env["k2k.message"]._k2k_requeue_waiting(
            [("connection_id", "in", self.ids)]
        )

    # -- helpers for the automations --------------------------------------

    @api.model
    def _get_active_for_supplier(self, buyer_company, partner):
        """The active connection through which ``buyer_company`` buys from
        ``partner`` (its commercial entity), if any."""
        commercial = partner.commercial_partner_id
        return self.sudo().search(
            [
                ("state", "=", "active"),
                ("buyer_company_id", "=", buyer_company.id),
                ("vendor_partner_id", "=", commercial.id),
            ],
            limit=1,
        )

    # -- transport ---------------------------------------------------------
    # The sending side builds a message, a transport carries its envelope,
    # the receiving side applies it in ``_k2k_receive``. A transport to
    # another database adds a ``transport`` value and its ``_k2k_deliver_*``
    # method; neither end changes.

    def _k2k_deliver(self, message):
        self.ensure_one()
        if self.state != "active":
            return {
                "outcome": "waiting",
                "detail": self._get_inactive_reason(),
            }
        deliver = getattr(self, f"_k2k_deliver_{self.transport}")
        return deliver(message._k2k_get_envelope())

    def _k2k_deliver_local(self, envelope):
        # Same database: the receiving side runs right here, as the
        # superuser acting for the receiving company.
        receiver = (
            self.buyer_company_id
            if envelope["type"] in ("invoice", "cancel")
            else self.vendor_company_id
        )
        return self.sudo().with_company(receiver)._k2k_receive(envelope)

    def _k2k_receive(self, envelope):
        """Apply an envelope that reached this side; return the outcome:
        ``{"outcome": "applied" | "delivered" | "waiting" | "superseded",
        "detail": text, ...}``. Raise ``UserError`` to refuse it."""
        self.ensure_one()
        handler = {
            "invoice": self.env["account.move"]._k2k_apply_invoice_envelope,
            "cancel": self.env["account.move"]._k2k_apply_cancel_envelope,
            "order": self.env["sale.order"]._k2k_apply_order_envelope,
            "order_cancel": self.env["sale.order"]._k2k_apply_order_cancel_envelope,
        }.get(envelope.get("type"))
        if handler is None:
            raise UserError(
                self.env._(
                    "Unknown K2K message type: %(type)s", type=envelope.get("type")
                )
            )
        return handler(self, envelope)

    def _k2k_get_currency(self, code):
        """The currency a message names by its ISO code, archived or not."""
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", code)], limit=1)
        )
        if not currency:
            raise UserError(self.env._("Unknown currency %(code)s.", code=code))
        return currency

    def _k2k_send_now(self, message):
        """Deliver a message inside the current transaction and raise if it
        is refused: used where the sender must know at once (K2K orders)."""
        self.ensure_one()
        outcome = self._k2k_deliver(message)
        message.sudo()._k2k_record_outcome(outcome)
        return outcome
