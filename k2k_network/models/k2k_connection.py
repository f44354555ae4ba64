# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import logging
import time
import uuid

import requests

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError

from .. import wire
from .res_company import K2K_AUTOMATION_KEYS

_logger = logging.getLogger(__name__)

# Outcomes a receiver may answer; anything else is not a K2K answer.
K2K_OUTCOMES = ("applied", "delivered", "waiting", "superseded")


class K2KTransportError(Exception):
    """The partner could not be reached or gave no K2K answer: the message
    stays queued and is tried again later."""


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
        [("local", "Same database"), ("http", "Another database (HTTPS)")],
        default="local",
        required=True,
        help="How K2K messages travel between the two companies.",
    )
    # -- partner in another database (transport "http") ---------------------
    local_role = fields.Selection(
        [("vendor", "Vendor"), ("buyer", "Buyer")],
        string="Our Company Is the",
        help="Which side of the connection lives in this database.",
    )
    remote_url = fields.Char(
        string="Partner Address",
        help="Web address of the partner's Odoo, e.g. https://erp.example.com. "
        "Learned from the invitation code or from the partner's handshake.",
    )
    remote_database = fields.Char(string="Partner Database")
    remote_company_name = fields.Char(string="Partner Company", readonly=True)
    remote_uid = fields.Char(
        string="Connection Identifier",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Names this connection in both databases.",
    )
    remote_secret = fields.Char(
        string="Shared Secret", readonly=True, copy=False, groups="base.group_system"
    )
    invitation_code = fields.Char(
        readonly=True,
        copy=False,
        groups="base.group_system",
        help="Give this code to the partner (as you would give a password): "
        "they join with it from K2K Network > Configuration > Join with an "
        "Invitation Code.",
    )
    remote_accepted_by = fields.Char(string="Accepted by (Partner)", readonly=True)
    remote_settings = fields.Json(
        string="Partner's Automations", readonly=True, copy=False
    )
    remote_settings_date = fields.Datetime(
        string="Partner Status Received on", readonly=True, copy=False
    )
    remote_suspended = fields.Boolean(
        string="Suspended by the Partner", readonly=True, copy=False
    )
    request_ids = fields.One2many(
        "k2k.request",
        "connection_id",
        string="Inbound Requests",
        readonly=True,
        groups="base.group_system",
    )
    status_revision = fields.Integer(string="Status Sent", readonly=True, copy=False)
    remote_status_revision = fields.Integer(
        string="Partner Status Received", readonly=True, copy=False
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
        (
            "remote_uid_uniq",
            "UNIQUE(remote_uid)",
            "This invitation code has already been used in this database.",
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

    # -- override points ---------------------------------------------------

    def _get_vendor_display_name(self):
        self.ensure_one()
        if self.vendor_company_id:
            return self.vendor_company_id.sudo().name
        return self.remote_company_name or self.env._("Vendor")

    def _get_buyer_display_name(self):
        self.ensure_one()
        if self.buyer_company_id:
            return self.buyer_company_id.sudo().name
        return self.remote_company_name or self.env._("Buyer")

    def _get_partner_side(self):
        """The side ("vendor" or "buyer") the partner in another database is."""
        self.ensure_one()
        return "buyer" if self.local_role == "vendor" else "vendor"

    def _get_local_company(self):
        """The company of this database that the connection serves."""
        self.ensure_one()
        if self.transport == "local":
            return self.env["res.company"]
        return self[f"{self.local_role}_company_id"]

    def _get_automation_settings(self):
        """Return each side's automation switches.

        Read with sudo: a user of one company must see whether the partner
        company opted in without being allowed in that company. A remote
        transport answers this from what the partner told it.
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
        """The switches of one side: read from its company when it lives here,
        else as the partner last told them (never guessed)."""
        self.ensure_one()
        company = self[f"{side}_company_id"]
        if company:
            return company.sudo()._k2k_get_automation_settings()
        told = self.remote_settings or {}
        return {key: bool(told.get(key)) for key in K2K_AUTOMATION_KEYS}

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

    @api.constrains("transport", "local_role", "vendor_company_id", "buyer_company_id")
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
            if connection.transport != "http":
                continue
            other = connection._get_partner_side()
            if not connection.local_role or not connection._get_local_company():
                raise ValidationError(
                    self.env._(
                        "A connection to another database needs to know which "
                        "side our company is (vendor or buyer) and which of our "
                        "companies it is."
                    )
                )
            if connection[f"{other}_company_id"]:
                raise ValidationError(
                    self.env._(
                        "A connection to another database has its partner company "
                        "there, not here: leave the %(side)s company empty.",
                        side=other,
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
        self.write({"state": "suspended", "remote_suspended": False})
        self._k2k_queue_status()

    def action_resume(self):
        self.check_access("write")
        for connection in self:
            if connection.state != "suspended":
                raise UserError(
                    self.env._("Only a suspended connection can be resumed.")
                )
            if connection.remote_suspended:
                raise UserError(
                    self.env._(
                        "%(partner)s suspended this connection: only %(partner)s "
                        "can resume it.",
                        partner=connection.remote_company_name,
                    )
                )
        self.state = "active"
        self._k2k_requeue_waiting_messages()
        self._k2k_queue_status()

    def _k2k_requeue_waiting_messages(self):
        self.env["k2k.message"]._k2k_requeue_waiting(
            [("connection_id", "in", self.ids)]
        )

    # -- helpers for the automations --------------------------------------

    @api.model
    def _get_active_for_supplier(self, buyer_company, partner):
        """The active connection through which ``buyer_company`` buys from
        ``partner`` (its commercial entity), if any."""
        connection_id = self._get_active_id_for_supplier(
            buyer_company.id, partner.commercial_partner_id.id
        )
        return self.sudo().browse(connection_id)

    @api.model
    @tools.ormcache("buyer_company_id", "partner_id")
    def _get_active_id_for_supplier(self, buyer_company_id, partner_id):
        # Asked for every purchase need and every purchase order confirmed;
        # connections change seldom, and then the cache is cleared.
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

    # -- transport ---------------------------------------------------------
    # The sending side builds a message, a transport carries its envelope,
    # the receiving side applies it in ``_k2k_receive``. A transport to
    # another database adds a ``transport`` value and its ``_k2k_deliver_*``
    # method; neither end changes.

    def _k2k_deliver(self, message):
        self.ensure_one()
        # A status message is what resumes a suspended connection at the
        # partner, so it travels while suspended; nothing else does.
        carries_status = message.message_type == "status" and self.state == "suspended"
        if self.state != "active" and not carries_status:
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

    def _k2k_deliver_http(self, envelope):
        """Post the envelope to the partner's endpoint; its answer is the
        receiver's own outcome. Raise ``K2KTransportError`` when there is no
        answer to trust, so that the message is tried again later."""
        status, answer = self._k2k_http_post(wire.MESSAGE_PATH, envelope)
        if status >= 400:
            error = answer.get("error")
            reason = answer.get("reason") or error
            if error in ("connection_suspended", "connection_not_active"):
                return {
                    "outcome": "waiting",
                    "detail": self.env._(
                        "%(partner)s does not take messages now: %(reason)s",
                        partner=self.remote_company_name,
                        reason=reason,
                    ),
                }
            return {
                "outcome": "failed",
                "detail": self.env._(
                    "Refused by %(partner)s: %(reason)s",
                    partner=self.remote_company_name,
                    reason=reason,
                ),
            }
        if answer.get("outcome") not in K2K_OUTCOMES:
            raise K2KTransportError(
                self.env._(
                    "%(partner)s answered without a K2K outcome.",
                    partner=self.remote_company_name,
                )
            )
        self._k2k_store_remote_status(answer.get("status"))
        # Record ids of the other database mean nothing here: keep words.
        return {
            key: answer[key]
            for key in ("outcome", "detail", "sale_order_name")
            if key in answer
        }

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
            "status": type(self)._k2k_apply_status_envelope,
        }.get(envelope.get("type"))
        if handler is None:
            raise UserError(
                self.env._(
                    "Unknown K2K message type: %(type)s", type=envelope.get("type")
                )
            )
        return handler(self, envelope)

    def _k2k_get_receivable_types(self):
        """The message types the side in this database may receive."""
        self.ensure_one()
        if self.local_role == "vendor":
            return ("order", "order_cancel", "status")
        return ("invoice", "cancel", "status")

    # -- partner in another database: wire --------------------------------

    def _k2k_http_post(self, path, data):
        """Sign and post ``data`` to the partner; return (HTTP status, the
        JSON answer). Raise ``K2KTransportError`` when the partner is down,
        slow, or answers something that is not JSON from a K2K endpoint."""
        self.ensure_one()
        partner = self.remote_company_name or self.remote_url
        if not self.remote_url:
            raise UserError(
                self.env._("Give the partner's address before sending to it.")
            )
        body = json.dumps(data).encode()
        timestamp = str(int(time.time()))
        nonce = wire.new_nonce()
        secret = self.sudo().remote_secret
        headers = {
            "Content-Type": "application/json",
            wire.HEADER_DATABASE: self.remote_database or "",
            wire.HEADER_CONNECTION: self.remote_uid,
            wire.HEADER_TIMESTAMP: timestamp,
            wire.HEADER_NONCE: nonce,
            wire.HEADER_SIGNATURE: wire.sign(
                secret,
                self.remote_database or "",
                self.remote_uid,
                timestamp,
                nonce,
                body,
            ),
        }
        url = self.remote_url.rstrip("/") + path
        try:
            response = requests.post(
                url, data=body, headers=headers, timeout=self._k2k_get_timeout()
            )
        except requests.RequestException as error:
            raise K2KTransportError(
                self.env._(
                    "Cannot reach %(partner)s at %(url)s: %(error)s",
                    partner=partner,
                    url=url,
                    error=error,
                )
            ) from error
        try:
            answer = response.json()
        except ValueError:
            answer = None
        # A K2K refusal says so ("ok": false); any other error page (a proxy,
        # a server without the addon) is no answer, and is tried again.
        refused = isinstance(answer, dict) and answer.get("ok") is False
        if (
            not isinstance(answer, dict)
            or response.status_code >= 500
            or (response.status_code >= 400 and not refused)
        ):
            raise K2KTransportError(
                self.env._(
                    "%(partner)s gave no K2K answer (HTTP %(status)s): %(text)s",
                    partner=partner,
                    status=response.status_code,
                    text=(answer or {}).get("reason")
                    if isinstance(answer, dict)
                    else response.text[:200],
                )
            )
        return response.status_code, answer

    @api.model
    def _k2k_get_timeout(self):
        param = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("k2k_network.http_timeout", "30")
        )
        return float(param)

    def _k2k_get_status(self):
        """What this side tells the partner about itself."""
        self.ensure_one()
        company = self._get_local_company().sudo()
        return {
            "state": self.state,
            "company": company.name,
            "settings": company._k2k_get_automation_settings(),
        }

    def _k2k_store_remote_status(self, status):
        """Remember what the partner told about its switches; messages that
        waited for one of them to go on are queued again."""
        self.ensure_one()
        if not isinstance(status, dict) or not isinstance(status.get("settings"), dict):
            return
        settings = {
            key: bool(status["settings"].get(key)) for key in K2K_AUTOMATION_KEYS
        }
        before = self.remote_settings or {}
        vals = {"remote_settings_date": fields.Datetime.now()}
        if settings != before:
            vals["remote_settings"] = settings
        if status.get("company") and status["company"] != self.remote_company_name:
            vals["remote_company_name"] = status["company"]
        self.sudo().write(vals)
        if any(value and not before.get(key) for key, value in settings.items()):
            self._k2k_requeue_waiting_messages()

    def _k2k_queue_status(self):
        """Tell partners in other databases about a change of state or of
        switches, through the queue so that a partner down hears it later."""
        Message = self.env["k2k.message"].sudo()
        dbuuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        vals_list = []
        for connection in self.sudo().filtered(
            lambda c: c.transport == "http" and c.state in ("active", "suspended")
        ):
            connection.status_revision += 1
            Message.search(
                [
                    ("connection_id", "=", connection.id),
                    ("message_type", "=", "status"),
                    ("state", "in", ("queued", "waiting")),
                ]
            ).write(
                {
                    "state": "superseded",
                    "state_detail": self.env._("Superseded by a newer status."),
                }
            )
            vals_list.append(
                {
                    "name": self.env._(
                        "Status of %(company)s",
                        company=(connection._get_local_company().name),
                    ),
                    "connection_id": connection.id,
                    "message_type": "status",
                    "document_uid": f"{dbuuid}/k2k.connection/{connection.id}",
                    "revision": connection.status_revision,
                    "payload": connection._k2k_get_status(),
                }
            )
        messages = Message.create(vals_list)
        if messages:
            Message._k2k_trigger_processing()
        return messages

    def _k2k_apply_status_envelope(self, envelope):
        """The partner's state and switches changed."""
        self.ensure_one()
        revision = envelope["revision"]
        if revision <= self.remote_status_revision:
            return {
                "outcome": "superseded",
                "detail": self.env._("An older status: ignored."),
            }
        payload = envelope["payload"]
        self.remote_status_revision = revision
        partner = payload.get("company") or self.remote_company_name
        if payload.get("state") == "suspended" and self.state == "active":
            self.write({"state": "suspended", "remote_suspended": True})
            self.message_post(
                body=self.env._(
                    "%(partner)s suspended the connection.", partner=partner
                )
            )
        elif (
            payload.get("state") == "active"
            and self.state == "suspended"
            and self.remote_suspended
        ):
            self.write({"state": "active", "remote_suspended": False})
            self.message_post(
                body=self.env._("%(partner)s resumed the connection.", partner=partner)
            )
            self._k2k_requeue_waiting_messages()
        self._k2k_store_remote_status(payload)
        return {"outcome": "applied", "detail": self.env._("Partner status updated.")}

    def action_k2k_refresh_status(self):
        """Send our status now; the partner's answer carries its own."""
        self.check_access("write")
        messages = self._k2k_queue_status()
        messages._k2k_process()
        postponed = messages.filtered(lambda m: m.state == "queued")
        if postponed:
            raise UserError("\n".join(postponed.mapped("error")))

    # -- partner in another database: handshake ----------------------------

    def action_k2k_create_invitation(self):
        """Our side accepts and gets a code for the partner to join with."""
        self.check_access("write")
        self.ensure_one()
        if self.transport != "http" or self.state != "draft":
            raise UserError(
                self.env._(
                    "Invitations are for connections to another database that "
                    "wait for their handshake."
                )
            )
        company = self._get_local_company()
        self._check_user_in_company(company)
        other = self._get_partner_side()
        if not self[f"{other}_partner_id"]:
            raise UserError(
                self.env._(
                    "Choose first the partner that stands for the %(side)s here.",
                    side=other,
                )
            )
        uid = self.remote_uid or uuid.uuid4().hex
        secret = self.sudo().remote_secret or wire.new_secret()
        base_url = self.get_base_url()
        code = wire.encode_invitation(
            {
                "url": base_url,
                "database": self.env.cr.dbname,
                "uid": uid,
                "secret": secret,
                "role": self.local_role,
                "company": company.name,
            }
        )
        self.sudo().write(
            {
                "remote_uid": uid,
                "remote_secret": secret,
                "invitation_code": code,
                f"{self.local_role}_accepted_by_id": self.env.user.id,
                f"{self.local_role}_accepted_date": fields.Datetime.now(),
            }
        )
        self.message_post(
            body=self.env._(
                "%(user)s accepted the connection for %(company)s and created an "
                "invitation code for the partner.",
                user=self.env.user.name,
                company=company.name,
            )
        )
        return True

    def _k2k_accept_remote_handshake(self, data):
        """The invited partner joined with our code (called by the endpoint,
        after the signature was checked). Return what the partner needs."""
        self.ensure_one()
        other = self._get_partner_side()
        if data.get("role") != other:
            raise UserError(
                self.env._("This invitation is for a %(side)s.", side=other)
            )
        if self.state == "draft":
            self._k2k_partner_accepted(
                data,
                self.env._(
                    "%(user)s accepted the connection for %(partner)s.",
                    user=data.get("accepted_by"),
                    partner=data.get("company"),
                ),
                {
                    "remote_url": data.get("url") or self.remote_url,
                    "remote_database": data.get("database"),
                    "remote_company_name": data.get("company"),
                },
            )
        elif self.remote_database != data.get("database"):
            raise UserError(self.env._("This invitation has already been used."))
        return {
            "outcome": "applied",
            "accepted_by": self[f"{self.local_role}_accepted_by_id"].name,
            "status": self._k2k_get_status(),
        }

    @api.model
    def _k2k_join(self, code, company, partner):
        """Join the connection a partner invited us to with ``code``: our
        user accepts for ``company``, the partner hears it at once."""
        data = wire.decode_invitation(code)
        if not data:
            raise UserError(self.env._("This is not a K2K invitation code."))
        if data["role"] not in ("vendor", "buyer"):
            raise UserError(self.env._("This invitation code names no known side."))
        role = "buyer" if data["role"] == "vendor" else "vendor"
        self._check_user_in_company(company)
        # Nothing stays here unless the partner took the handshake.
        with self.env.cr.savepoint():
            return self._k2k_join_partner(data, role, company, partner)

    @api.model
    def _k2k_join_partner(self, data, role, company, partner):
        connection = self.sudo().create(
            {
                "transport": "http",
                "local_role": role,
                f"{role}_company_id": company.id,
                f"{data['role']}_partner_id": partner.id,
                "remote_url": data["url"],
                "remote_database": data["database"],
                "remote_company_name": data["company"],
                "remote_uid": data["uid"],
                "remote_secret": data["secret"],
                f"{role}_accepted_by_id": self.env.user.id,
                f"{role}_accepted_date": fields.Datetime.now(),
            }
        )
        base_url = self.get_base_url()
        try:
            status, answer = connection._k2k_http_post(
                wire.HANDSHAKE_PATH,
                {
                    "role": role,
                    "url": base_url,
                    "database": self.env.cr.dbname,
                    "company": company.name,
                    "accepted_by": self.env.user.name,
                    "status": connection._k2k_get_status(),
                },
            )
        except K2KTransportError as error:
            raise UserError(str(error)) from error
        if status >= 400:
            raise UserError(
                self.env._(
                    "%(partner)s refused the handshake: %(reason)s",
                    partner=data["company"],
                    reason=answer.get("reason") or answer.get("error"),
                )
            )
        connection._k2k_partner_accepted(
            answer,
            self.env._(
                "%(user)s joined %(partner)s's invitation for %(company)s.",
                user=self.env.user.name,
                partner=data["company"],
                company=company.name,
            ),
        )
        return connection.with_env(self.env)

    def _k2k_partner_accepted(self, told, body, vals=None):
        """The partner in another database accepted (what it ``told`` us:
        who accepted, its status): record it, say it, activate."""
        self.ensure_one()
        self.write(
            {
                **(vals or {}),
                "remote_accepted_by": told.get("accepted_by"),
                f"{self._get_partner_side()}_accepted_date": fields.Datetime.now(),
            }
        )
        self.message_post(body=body)
        self._k2k_store_remote_status(told.get("status"))
        self._activate()

    def _k2k_get_currency(self, code):
        """The currency a message names by its ISO code, archived or not."""
        currency_id = self._k2k_get_currency_id(code)
        if not currency_id:
            raise UserError(self.env._("Unknown currency %(code)s.", code=code))
        return self.env["res.currency"].browse(currency_id)

    @api.model
    @tools.ormcache("code")
    def _k2k_get_currency_id(self, code):
        # Cached: every message names its currency, and codes never move.
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", code)], limit=1)
        )
        return currency.id

    def _k2k_send_now(self, message):
        """Deliver a message inside the current transaction and raise if it
        is refused: used where the sender must know at once (K2K orders)."""
        self.ensure_one()
        message = message.sudo()
        try:
            outcome = self._k2k_deliver(message)
        except K2KTransportError as error:
            # Unreachable now: the queue takes it from here.
            message._k2k_schedule_retry(str(error))
            return {"outcome": "queued", "detail": str(error)}
        message._k2k_record_outcome(outcome)
        return outcome
