# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import Command, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools import clean_context

from .. import wire


class K2KConnection(models.Model):
    """A link between one vendor company and one buyer company.

    Nothing flows through a connection before both sides accepted it (the
    handshake). Each side is described by a company (when it lives in this
    database) and by the partner through which the other side sees it. How
    a message reaches the other side is the connection's transport
    (``k2k.transport.local``: the same database; ``k2k.transport.http``:
    another database). Business code only queues messages in the outbox
    (``k2k.message._k2k_enqueue``) and applies what the inbox routes to its
    adapter.
    """

    _name = "k2k.connection"
    _description = "K2K Connection"
    _inherit = ["mail.thread", "k2k.remote.partner", "k2k.remote.position"]
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
        [("local", "Same database"), ("http", "Another database (HTTPS)")],
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
    vendor_user_id = fields.Many2one(
        "res.users",
        string="K2K Responsible (Vendor)",
        compute="_compute_responsibles",
        store=True,
        readonly=False,
        copy=False,
        tracking=True,
        domain="[('share', '=', False), ('company_ids', 'in', vendor_company_id)]",
        help="The vendor's person for what K2K asks of the vendor when its "
        "document names nobody of the vendor: the salesperson of a K2K order "
        "whose customer has none, the one asked about an invoice the buyer "
        "disputes. By default, who accepted the connection for the vendor.",
    )
    buyer_user_id = fields.Many2one(
        "res.users",
        string="K2K Responsible (Buyer)",
        compute="_compute_responsibles",
        store=True,
        readonly=False,
        copy=False,
        tracking=True,
        domain="[('share', '=', False), ('company_ids', 'in', buyer_company_id)]",
        help="The buyer's person for what K2K asks of the buyer when its "
        "document names nobody of the buyer: the one asked about a vendor's "
        "change of a purchase order without a purchase representative. By "
        "default, who accepted the connection for the buyer.",
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

    @api.depends(
        "vendor_company_id.name", "buyer_company_id.name", "remote_company_name"
    )
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

    @api.depends("vendor_accepted_by_id", "buyer_accepted_by_id")
    def _compute_responsibles(self):
        # Who accepted for a side speaks for it, until an administrator
        # names someone else.
        for connection in self:
            for side in ("vendor", "buyer"):
                field = f"{side}_user_id"
                accepted_by = connection[f"{side}_accepted_by_id"]
                if not connection[field] and connection._k2k_is_person_of(
                    side, accepted_by
                ):
                    connection[field] = accepted_by

    # -- override points ---------------------------------------------------

    def _get_vendor_display_name(self):
        self.ensure_one()
        if self.vendor_company_id:
            return self.vendor_company_id.sudo().name
        # A vendor in another database: the name it gave for itself.
        return self.remote_company_name or self.env._("Vendor")

    def _get_buyer_display_name(self):
        self.ensure_one()
        if self.buyer_company_id:
            return self.buyer_company_id.sudo().name
        return self.remote_company_name or self.env._("Buyer")

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

    # -- automations ---------------------------------------------------------

    @api.depends(
        "state",
        "vendor_accepted_date",
        "buyer_accepted_date",
        "vendor_company_id.k2k_invoice_sync_enabled",
        "buyer_company_id.k2k_invoice_upload_enabled",
        "buyer_company_id.k2k_split_ecommerce_po_enabled",
        "remote_settings",
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
        """The switches of one side, read from its company; a partner's in
        another database as it last told them (never guessed)."""
        self.ensure_one()
        company = self[f"{side}_company_id"]
        if company:
            return company.sudo()._k2k_get_automation_settings()
        if self.transport == "http":
            told = self.remote_settings or {}
            return {key: bool(told.get(key)) for key in wire.AUTOMATION_KEYS}
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

    # -- people --------------------------------------------------------------

    @api.model
    def _k2k_get_user(self):
        """The K2K user: who makes what a partner's message makes here."""
        return self.env.ref("k2k_network.user_k2k", raise_if_not_found=False) or (
            self.env.ref("base.user_root")
        )

    def _k2k_is_person_of(self, side, user):
        """Whether ``user`` is someone of this side's company: an internal
        user of it, not the K2K user."""
        self.ensure_one()
        company = self[f"{side}_company_id"]
        user = user.sudo()
        return bool(
            company
            and len(user) == 1
            and user.active
            and not user.share
            and company in user.company_ids
            and user != self._k2k_get_user()
        )

    def _k2k_get_responsible(self, side, *candidates):
        """Who of this side's company acts on what K2K asks of it: the first
        of ``candidates`` (the document's own salesperson or purchase
        representative) who is someone of that company, else the
        connection's responsible for that side, else who accepted it for
        that side; nobody when none is. Never a user of the other company,
        nor the K2K user."""
        self.ensure_one()
        people = (
            *candidates,
            self[f"{side}_user_id"],
            self[f"{side}_accepted_by_id"],
        )
        for user in people:
            if self._k2k_is_person_of(side, user):
                return user
        return self.env["res.users"]

    def _k2k_admit_k2k_user(self):
        """The K2K user acts in the companies of this database that have a
        connection (as OdooBot in every company): Odoo's own defaults, such
        as a sales team, look among the acting user's companies."""
        companies = (self.vendor_company_id | self.buyer_company_id).sudo()
        user = self._k2k_get_user().sudo()
        missing = companies - user.company_ids
        if missing:
            user.write({"company_ids": [Command.link(c.id) for c in missing]})

    @api.model_create_multi
    def create(self, vals_list):
        connections = super().create(vals_list)
        connections._k2k_admit_k2k_user()
        # The connection of a supplier is cached (_get_active_id_for_supplier).
        self.env.registry.clear_cache()
        return connections

    def write(self, vals):
        for side in ("vendor", "buyer"):
            if f"{side}_user_id" in vals:
                # A company names its own people only.
                for connection in self:
                    connection._check_user_in_company(connection[f"{side}_company_id"])
        result = super().write(vals)
        if "vendor_company_id" in vals or "buyer_company_id" in vals:
            self._k2k_admit_k2k_user()
        if {"state", "buyer_company_id", "vendor_partner_id"}.intersection(vals):
            self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    # -- constraints -------------------------------------------------------

    @api.constrains(
        "vendor_user_id", "buyer_user_id", "vendor_company_id", "buyer_company_id"
    )
    def _check_responsibles(self):
        for connection in self:
            for side in ("vendor", "buyer"):
                user = connection[f"{side}_user_id"]
                if user and not connection._k2k_is_person_of(side, user):
                    # Read before the translated text: the term extractor
                    # takes what stands in its call for strings.
                    company = connection[f"{side}_company_id"].sudo().name
                    partner = connection[f"{side}_partner_id"].sudo().name
                    raise ValidationError(
                        self.env._(
                            "%(user)s cannot be the K2K responsible of "
                            "%(company)s: choose an internal user of %(company)s.",
                            user=user.sudo().name,
                            company=company or partner,
                        )
                    )

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
        if self.transport != "local":
            raise UserError(
                self.env._(
                    "A partner in another database accepts with the invitation "
                    "code: use Create Invitation and give them the code."
                )
            )
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
        self._message_log(
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
        self._message_log(
            body=self.env._("Both companies accepted: the connection is active.")
        )

    def action_suspend(self):
        self.check_access("write")
        for connection in self:
            if connection.state != "active":
                raise UserError(
                    self.env._("Only an active connection can be suspended.")
                )
        self.write({"state": "suspended"})
        # Suspended by this side now: this side resumes it.
        self.filtered("remote_suspended").write({"remote_suspended": False})
        self._k2k_notify_partner()

    def action_resume(self):
        self.check_access("write")
        for connection in self:
            if connection.state != "suspended":
                raise UserError(
                    self.env._("Only a suspended connection can be resumed.")
                )
            connection._k2k_check_resumable()
        self.state = "active"
        self._k2k_requeue_waiting_messages()
        self._k2k_notify_partner()

    def _k2k_requeue_waiting_messages(self):
        self.env["k2k.message"]._k2k_requeue_waiting(
            [("connection_id", "in", self.ids)]
        )

    # -- what travels --------------------------------------------------------
    # The outbox hands this connection's messages to its transport
    # (``k2k.transport.*``); the receiving side applies them in its inbox
    # (``k2k.inbox``), whichever transport brought them.

    def _k2k_get_transport(self):
        """The transport that carries this connection's messages."""
        self.ensure_one()
        return self.env[f"k2k.transport.{self.transport}"]

    def _k2k_carries_now(self, message_type):
        """Whether a ``message_type`` message goes to the partner now; if
        not, it waits for the connection (``_get_inactive_reason``)."""
        self.ensure_one()
        # A status message is what resumes a suspended connection at the
        # partner, so it travels while suspended; nothing else does.
        return self.state == "active" or (
            message_type == "status" and self.state == "suspended"
        )

    def _k2k_get_receiving_side(self):
        """The side ("vendor" or "buyer") this database receives as through
        this connection; ``None`` in one database, which holds both sides."""
        self.ensure_one()
        if self.transport == "http":
            return self.local_role or ""  # no side: it receives nothing
        return None

    def _k2k_get_receiving_company(self, message_type):
        """The company of this database that receives ``message_type``
        through this connection."""
        self.ensure_one()
        if self.transport == "http":
            # The other side is the partner's database: whatever the type,
            # what reaches this one is for the company it serves.
            return self._get_local_company()
        return self[f"{wire.receiving_side(message_type)}_company_id"]

    def _k2k_as_receiver(self, company):
        """This connection as the side of ``company`` receives through it:
        as the K2K user, in ``company`` only, as the superuser (the receiver
        checks what the partner may do, not what the sender's user may).
        Whoever sent the message, in this database, makes nothing there: the
        same as a message from another database (see the controller). The
        sender's defaults for its own documents (``default_*`` keys of the
        context it acted in) are not the receiver's either."""
        self.ensure_one()
        env = self.env(
            user=self._k2k_get_user(),
            su=True,
            context=dict(
                clean_context(self.env.context), allowed_company_ids=company.ids
            ),
        )
        return self.with_env(env)
