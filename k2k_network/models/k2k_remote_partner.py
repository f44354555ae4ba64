# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hmac
import logging
import uuid
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import str2bool

from .. import http_client, wire
from ..http_client import K2KTransportError

_logger = logging.getLogger(__name__)


class K2KRemotePartner(models.AbstractModel):
    """The partner of a connection when it lives in another database: its
    address, database and company, the keys the two sides sign with (one
    per direction, given in the handshake and changed over the wire), the
    invitation that starts it all, the exchange of each side's state and
    switches, and whether it answers. Apart from the connection's business
    settings (``k2k.connection`` inherits it), as ``account_edi_proxy_client``'s
    user is apart from ``account_peppol``.

    Each side owns the key that signs the requests it receives (and its
    answers to them) and gives it to the partner. The invitation secret
    signs the handshake only: one side accepts and creates an invitation
    code, the other joins with it (see the invitation wizard), and both
    connections become active at once."""

    _name = "k2k.remote.partner"
    _description = "K2K Partner in Another Database"

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
    remote_url_pending = fields.Char(
        string="Address Given by the Partner",
        readonly=True,
        copy=False,
        help="A new address the partner gave for itself: nothing goes there "
        "until an administrator confirms it.",
    )
    remote_database = fields.Char(string="Partner Database")
    remote_company_name = fields.Char(string="Partner Company", readonly=True)
    connection_uid = fields.Char(
        string="Connection Identifier",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Names this connection in both databases.",
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
    remote_status_revision = fields.Integer(
        string="Partner Status Received", readonly=True, copy=False
    )
    remote_settings_changes = fields.Integer(
        string="Partner's Automations Turned On Lately",
        readonly=True,
        copy=False,
        help="How often the partner turned one of its automations on within an "
        "hour of the time before: the messages that waited for it go again "
        "later each time.",
    )
    remote_settings_changed_date = fields.Datetime(
        string="Partner's Automation Last Turned On", readonly=True, copy=False
    )
    delivery_failures = fields.Integer(
        string="Failed Exchanges in a Row",
        readonly=True,
        copy=False,
        help="Exchanges with the partner that got no K2K answer, since the last "
        "one that did.",
    )
    delivery_paused_until = fields.Datetime(
        string="Deliveries Paused Until",
        readonly=True,
        copy=False,
        help="The partner kept failing: nothing is sent to it before this time, "
        "and its messages wait without holding up the others.",
    )
    delivery_paused = fields.Boolean(
        string="Deliveries Paused", compute="_compute_delivery_paused"
    )

    invitation_secret = fields.Char(
        readonly=True, copy=False, groups="base.group_system"
    )
    invitation_expiry = fields.Datetime(
        string="Invitation Valid Until",
        readonly=True,
        copy=False,
        help="After this moment the invitation code is refused: create a new one.",
    )
    inbound_key = fields.Char(
        string="Key of Requests Received",
        readonly=True,
        copy=False,
        groups="base.group_system",
    )
    # Still taken after a key change, until the partner signs with the new key.
    inbound_key_previous = fields.Char(
        string="Previous Key of Requests Received",
        readonly=True,
        copy=False,
        groups="base.group_system",
    )
    outbound_key = fields.Char(
        string="Key of Requests Sent",
        readonly=True,
        copy=False,
        groups="base.group_system",
    )
    keys_date = fields.Datetime(
        string="Keys Changed on",
        readonly=True,
        copy=False,
        help="When this side last gave the partner a new key.",
    )
    key_change_pending = fields.Boolean(
        string="Key Change Under Way",
        compute="_compute_key_change_pending",
        help="A new key was given to the partner, which has not signed with it yet.",
    )

    _sql_constraints = [
        (
            "connection_uid_uniq",
            "UNIQUE(connection_uid)",
            "This invitation code has already been used in this database.",
        ),
    ]

    # -- the partner's address and identity ----------------------------------

    def _get_partner_side(self):
        """The side ("vendor" or "buyer") the partner in another database is."""
        self.ensure_one()
        return wire.other_side(self.local_role)

    def _get_local_company(self):
        """The company of this database that a remote connection serves."""
        self.ensure_one()
        if self.transport != "http" or not self.local_role:
            return self.env["res.company"]
        return self[f"{self.local_role}_company_id"]

    @api.model
    def _k2k_allows_http(self):
        """Whether plain http to this machine may be a partner's address:
        only where a test or a development server says so explicitly."""
        params = self.env["ir.config_parameter"].sudo()
        # "0" or "False" is off, as any other boolean setting of Odoo's.
        return str2bool(params.get_param("k2k_network.allow_http") or "0", False)

    @api.model
    def _k2k_is_partner_url(self, url):
        return wire.check_partner_url(url, self._k2k_allows_http())

    @api.constrains("remote_url", "remote_url_pending")
    def _check_remote_url(self):
        for connection in self:
            for url in filter(
                None, (connection.remote_url, connection.remote_url_pending)
            ):
                if not self._k2k_is_partner_url(url):
                    raise ValidationError(
                        self.env._(
                            "%(url)s cannot be a partner's address: it must start "
                            "with https:// and name the server only, with no path "
                            "or query (plain http:// only to this machine, where "
                            "the k2k_network.allow_http setting allows it).",
                            url=wire.clean_text(url, 200),
                        )
                    )

    def _k2k_take_partner_url(self, url):
        """The address the partner gives for itself (its handshake): taken
        when we have none yet, kept aside for an administrator to confirm
        when it would change ours, refused when it cannot be a partner's
        address. A partner never moves our requests elsewhere alone."""
        self.ensure_one()
        if not url or url == self.remote_url:
            return
        if not isinstance(url, str) or not self._k2k_is_partner_url(url):
            raise UserError(
                self.env._(
                    "%(url)s cannot be a partner's address: https://, the server "
                    "only.",
                    url=wire.clean_text(str(url), 200),
                )
            )
        if not self.remote_url:
            self.remote_url = url
            return
        self.remote_url_pending = url
        self._message_log(
            body=self.env._(
                "The partner gave a new address, %(url)s: requests keep going to "
                "%(current)s until an administrator confirms it.",
                url=url,
                current=self.remote_url,
            )
        )

    def action_k2k_confirm_remote_url(self):
        """An administrator takes the address the partner gave."""
        if not self.env.is_system():
            raise AccessError(
                self.env._("Only an administrator confirms a partner's address.")
            )
        for connection in self.filtered("remote_url_pending"):
            previous = connection.remote_url
            connection.write(
                {
                    "remote_url": connection.remote_url_pending,
                    "remote_url_pending": False,
                    # Another address: whether it answers is to be seen.
                    "delivery_failures": 0,
                    "delivery_paused_until": False,
                }
            )
            connection._message_log(
                body=self.env._(
                    "%(user)s confirmed the partner's new address %(url)s "
                    "(before: %(previous)s).",
                    user=self.env.user.name,
                    url=connection.remote_url,
                    previous=previous,
                )
            )
        return True

    @api.constrains("transport", "local_role", "vendor_company_id", "buyer_company_id")
    def _check_remote_companies(self):
        for connection in self.filtered(lambda c: c.transport == "http"):
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

    # -- the invitation and the handshake ------------------------------------

    def _k2k_get_invitation_days(self):
        params = self.env["ir.config_parameter"].sudo()
        return float(params.get_param("k2k_network.invitation_validity_days", "7"))

    def _k2k_invitation_is_open(self):
        """Whether the invitation secret may still sign a handshake."""
        self.ensure_one()
        return bool(
            self.sudo().invitation_secret
            and self.invitation_expiry
            and self.invitation_expiry > fields.Datetime.now()
        )

    def _k2k_new_invitation_vals(self):
        return {
            "invitation_secret": wire.new_secret(),
            "invitation_expiry": fields.Datetime.now()
            + timedelta(days=self._k2k_get_invitation_days()),
        }

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
        self.write(
            {
                **self._k2k_prepare_invitation_vals(company),
                f"{self.local_role}_accepted_by_id": self.env.user.id,
                f"{self.local_role}_accepted_date": fields.Datetime.now(),
            }
        )
        self._message_log(
            body=self.env._(
                "%(user)s accepted the connection for %(company)s and created an "
                "invitation code for the partner.",
                user=self.env.user.name,
                company=company.name,
            )
        )
        return True

    def _k2k_prepare_invitation_vals(self, company):
        """A connection identifier, a new invitation secret with its expiry,
        and the code that carries them with our address to the partner. A
        new invitation replaces the one before."""
        uid = self.connection_uid or uuid.uuid4().hex
        vals = self._k2k_new_invitation_vals()
        code = wire.encode_invitation(
            {
                "url": self.get_base_url(),
                "database": self.env.cr.dbname,
                "uid": uid,
                "secret": vals["invitation_secret"],
                "expires": int(vals["invitation_expiry"].timestamp()),
                "role": self.local_role,
                "company": company.name,
            }
        )
        return dict(vals, connection_uid=uid, invitation_code=code)

    def _k2k_accept_remote_handshake(self, data):
        """The invited partner joined with our code (called by the endpoint,
        after the invitation secret's signature was checked): take its key,
        answer with ours. Until the partner signs a message with our key,
        the same partner may join again with the same key (its first answer
        may have been lost); never anyone else, nor with another key."""
        self.ensure_one()
        other = self._get_partner_side()
        if data.get("role") != other:
            raise UserError(
                self.env._("This invitation is for a %(side)s.", side=other)
            )
        if not self._k2k_invitation_is_open():
            raise UserError(
                self.env._("This invitation code has expired: ask for a new one.")
            )
        data = self._k2k_clean_told(data)
        if self.state == "draft":
            self._k2k_take_partner_key(data.get("key"))
            self._k2k_give_new_inbound_key()
            self.invitation_code = False
            self._k2k_take_partner_url(data.get("url"))
            self._k2k_partner_accepted(
                data,
                self.env._(
                    "%(user)s accepted the connection for %(partner)s.",
                    user=data.get("accepted_by"),
                    partner=data.get("company"),
                ),
                {
                    "remote_database": data.get("database"),
                    "remote_company_name": data.get("company"),
                },
            )
        elif not self._k2k_is_repeated_join(data):
            raise UserError(self.env._("This invitation has already been used."))
        return {
            "outcome": "applied",
            "accepted_by": self[f"{self.local_role}_accepted_by_id"].name,
            "key": self.sudo().inbound_key,
            "status": self.env["k2k.document.status"]._k2k_export_status(self),
        }

    @api.model
    def _k2k_clean_told(self, data):
        """What a partner tells of itself in a handshake (names), cleaned
        and capped before it is stored or shown; its address and key are
        checked as such where they are taken."""
        names = {
            key: wire.clean_text(str(data[key]), 256) if data.get(key) else False
            for key in ("database", "company", "accepted_by")
        }
        return dict(data, **names)

    def _k2k_is_repeated_join(self, data):
        """Whether the partner that joined joins again (its first answer was
        lost): the same database with the same key, which only it can make
        (see ``_k2k_get_join_key``). Nothing changes then."""
        self.ensure_one()
        return (
            self.remote_database == data.get("database")
            and isinstance(data.get("key"), str)
            and hmac.compare_digest(data["key"], self.sudo().outbound_key or "")
        )

    def _k2k_take_join_key(self):
        key = self._k2k_get_join_key()
        self.sudo().write({"inbound_key": key, "keys_date": fields.Datetime.now()})
        return key

    def _k2k_send_handshake(self, partner_name):
        """We joined with the partner's code: tell the partner, who accepts
        at once. Return its answer; raise ``UserError`` when it cannot be
        reached or refuses."""
        self.ensure_one()
        company = self._get_local_company()
        try:
            status, answer = self._k2k_http_post(
                wire.HANDSHAKE_PATH,
                {
                    "role": self.local_role,
                    "url": self.get_base_url(),
                    "database": self.env.cr.dbname,
                    "company": company.name,
                    "accepted_by": self.env.user.name,
                    "key": self._k2k_take_join_key(),
                    "status": self.env["k2k.document.status"]._k2k_export_status(self),
                },
                key=self.sudo().invitation_secret,
            )
        except K2KTransportError as error:
            raise UserError(self._k2k_describe_error(error)) from error
        if status >= 400:
            raise UserError(
                self.env._(
                    "%(partner)s refused the handshake: %(reason)s",
                    partner=partner_name,
                    reason=answer.get("reason") or answer.get("error"),
                )
            )
        answer = self._k2k_clean_told(answer)
        self._k2k_take_partner_key(answer.get("key"))
        # The code has done its work: our messages are signed with the keys.
        self.sudo().invitation_secret = False
        return answer

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
        self._message_log(body=body)
        self.env["k2k.document.status"]._k2k_store_partner_status(
            self, told.get("status")
        )
        self._activate()

    # -- keys ------------------------------------------------------------------

    @api.depends("inbound_key_previous")
    def _compute_key_change_pending(self):
        for connection in self:
            connection.key_change_pending = bool(connection.sudo().inbound_key_previous)

    # -- which key signs what ------------------------------------------------

    def _k2k_get_signing_keys(self, path):
        """The keys a request to ``path`` may be signed with, as (key, name):
        the invitation secret for the handshake, our current key (then the
        previous one, during a key change) for messages."""
        self.ensure_one()
        connection = self.sudo()
        if path == wire.HANDSHAKE_PATH:
            candidates = [(connection.invitation_secret, "invitation")]
        else:
            candidates = [
                (connection.inbound_key, "current"),
                (connection.inbound_key_previous, "previous"),
            ]
        return [(key, name) for key, name in candidates if key]

    def _k2k_note_key_used(self, name):
        """A request signed with the key ``name`` was accepted: once the
        partner signs with our current key, it has it, and neither the
        invitation nor the previous key is needed any more."""
        self.ensure_one()
        connection = self.sudo()
        if name != "current":
            return
        if connection.inbound_key_previous or connection.invitation_secret:
            connection.write(
                {"inbound_key_previous": False, "invitation_secret": False}
            )

    def _k2k_is_repeated_key_change(self, envelope):
        """Whether a key change is one we already took: its key is the one
        we sign with now (its answer was lost on the way)."""
        self.ensure_one()
        key = envelope.get("payload", {}).get("key")
        return isinstance(key, str) and hmac.compare_digest(
            key, self.sudo().outbound_key or ""
        )

    def _k2k_take_partner_key(self, key):
        """The partner gave the key it will check our requests with."""
        self.ensure_one()
        if not wire.is_key(key):
            raise UserError(self.env._("The partner gave no valid key."))
        self.sudo().outbound_key = key

    def _k2k_get_join_key(self):
        """The key we give the partner when we join its invitation: made
        from this database's own secret, so that joining again after a lost
        answer gives the same key, which the partner recognises, and nobody
        else who holds the code can give it."""
        self.ensure_one()
        params = self.env["ir.config_parameter"].sudo()
        return wire.derive_key(
            params.get_param("database.secret"),
            self.connection_uid,
            self.sudo().invitation_secret,
        )

    def _k2k_give_new_inbound_key(self):
        """Sign the partner's next requests with a new key of ours; the
        current one is still taken until the partner uses the new one.
        Return the new key."""
        self.ensure_one()
        connection = self.sudo()
        key = wire.new_secret()
        connection.write(
            {
                "inbound_key_previous": connection.inbound_key or False,
                "inbound_key": key,
                "keys_date": fields.Datetime.now(),
            }
        )
        return key

    # -- key change ------------------------------------------------------------

    def action_k2k_rotate_keys(self):
        """Give the partner new keys, both directions: ours, to which the
        partner answers with its own. Messages keep going meanwhile."""
        if not self.env.user._is_system():
            raise AccessError(
                self.env._("Only an administrator can change a connection's keys.")
            )
        for connection in self:
            connection._k2k_check_rotatable()
            connection._k2k_give_new_inbound_key()
            # Sent by the scheduled action once this transaction has
            # committed: the partner may answer with a message signed with
            # the new key at once, which must find it here.
            self.env["k2k.message"]._k2k_enqueue(connection, "keys", connection)
            connection._message_log(
                body=self.env._(
                    "%(user)s changed the keys of this connection; the change "
                    "completes when %(partner)s answers.",
                    user=self.env.user.name,
                    partner=connection.remote_company_name,
                )
            )
        return True

    def action_k2k_revoke_previous_key(self):
        """Refuse the key being replaced at once (it leaked, or the partner
        stays silent), without waiting for the partner to sign with the new
        one; a partner that has not got the new key yet is refused until it
        has, and another key change can start."""
        if not self.env.user._is_system():
            raise AccessError(
                self.env._("Only an administrator can change a connection's keys.")
            )
        for connection in self:
            if not connection.sudo().inbound_key_previous:
                raise UserError(self.env._("No key change is under way."))
        self.sudo().write({"inbound_key_previous": False})
        for connection in self:
            connection._message_log(
                body=self.env._(
                    "%(user)s revoked the previous key: requests signed with it "
                    "are refused.",
                    user=self.env.user.name,
                )
            )
        return True

    def _k2k_check_rotatable(self):
        self.ensure_one()
        if self.transport != "http" or self.state != "active":
            raise UserError(
                self.env._(
                    "Keys are changed on an active connection to another database."
                )
            )
        if self.sudo().inbound_key_previous:
            raise UserError(
                self.env._(
                    "A key change is under way: %(partner)s has not signed with "
                    "the new key yet. Try again once it has answered.",
                    partner=self.remote_company_name,
                )
            )

    # -- suspension and status -----------------------------------------------

    def _k2k_check_resumable(self):
        """Raise when this side may not resume the suspended connection:
        a partner that suspended it is the one to resume it."""
        self.ensure_one()
        if self.remote_suspended:
            raise UserError(
                self.env._(
                    "%(partner)s suspended this connection: only %(partner)s "
                    "can resume it.",
                    partner=self.remote_company_name,
                )
            )

    def _k2k_notify_partner(self):
        """Our state or our switches changed: tell the other side. In one
        database it reads them itself; a partner in another database hears
        it through the outbox, so that a partner down hears it later."""
        Message = self.env["k2k.message"]
        Status = self.env["k2k.document.status"]
        messages = Message.browse()
        for connection in self.filtered(
            lambda c: c.transport == "http" and c.state in ("active", "suspended")
        ):
            messages |= Message._k2k_enqueue(
                connection,
                "status",
                connection,
                {connection.id: Status._k2k_export_status(connection)},
            )
        return messages

    def _k2k_follow_partner_state(self, state, partner):
        """The partner suspended or resumed the connection."""
        self.ensure_one()
        if state == "suspended" and self.state == "active":
            self.write({"state": "suspended", "remote_suspended": True})
            self._message_log(
                body=self.env._(
                    "%(partner)s suspended the connection.", partner=partner
                )
            )
        elif state == "active" and self.state == "suspended" and self.remote_suspended:
            self.write({"state": "active", "remote_suspended": False})
            self._message_log(
                body=self.env._("%(partner)s resumed the connection.", partner=partner)
            )
            self._k2k_requeue_waiting_messages()

    def action_k2k_refresh_status(self):
        """Check now: send our status and where we stand; the partner's
        answer carries its own, and shows whether either side lost what the
        other sent (``k2k.remote.position``)."""
        self.check_access("write")
        for connection in self.filtered(lambda c: c._k2k_is_paused()):
            raise UserError(
                self.env._(
                    "Nothing is sent to %(partner)s until %(when)s (UTC): it kept "
                    "failing. Click “Send to It Now” once it is back.",
                    partner=connection.remote_company_name or connection.remote_url,
                    when=fields.Datetime.to_string(connection.delivery_paused_until),
                )
            )
        messages = self._k2k_notify_partner()
        messages._k2k_send()
        postponed = messages.filtered(lambda m: m.state == "queued")
        if postponed:
            raise UserError("\n".join(postponed.mapped("error")))

    # -- posting to the partner ----------------------------------------------

    def _k2k_http_post(self, path, data, key=None):
        """Sign ``data`` with ``key`` (by default, the key of the requests
        we send) and post it to the partner; return (HTTP status, JSON
        answer). Raise ``K2KTransportError`` when there is no K2K answer."""
        return http_client.post_signed(*self._k2k_http_post_args(path, data, key))

    def _k2k_http_post_args(self, path, data, key=None):
        """The arguments of ``http_client.post_signed`` for posting ``data``
        to the partner, read here so that the post itself needs no ORM."""
        self.ensure_one()
        if self._k2k_is_neutralized():
            raise UserError(self._k2k_neutralized_text())
        if not self.remote_url:
            raise UserError(
                self.env._("Give the partner's address before sending to it.")
            )
        return (
            self.remote_url,
            path,
            self.remote_database,
            self.connection_uid,
            key or self.sudo().outbound_key,
            data,
            self._k2k_get_timeout(),
            self._k2k_allows_http(),
        )

    # -- a partner that keeps failing ----------------------------------------

    @api.depends("delivery_paused_until")
    def _compute_delivery_paused(self):
        for connection in self:
            connection.delivery_paused = connection._k2k_is_paused()

    def _k2k_note_partner_status(self, status, receipts=(), status_applied=False):
        """Store the status an answer of the partner carries, and compare its
        position with what this side recorded (``receipts``: those the
        answer gave; ``status_applied``: the request carried a status of
        this side, and the partner applied it), in a savepoint: the
        partner's own request may be writing the same row right now, and
        that must not undo what this run did for the others."""
        # What is pending is flushed first, so that its failure is not taken
        # for this one's.
        self.env.flush_all()
        try:
            with self.env.cr.savepoint():
                self.env["k2k.document.status"]._k2k_store_partner_status(self, status)
                if isinstance(status, dict):
                    self._k2k_check_answered_position(
                        status.get("position"), receipts, status_applied
                    )
        except Exception:
            _logger.warning(
                "K2K: the status of %s's answer cannot be stored now",
                self.display_name,
                exc_info=True,
            )

    def _k2k_note_refusal_status(self, answer):
        """A refusal the partner signed carries its status, as its answers
        do (not from an older version): where it stands counts all the
        same."""
        status = answer.get("status") if isinstance(answer, dict) else None
        if isinstance(status, dict):
            self._k2k_note_partner_status(status)

    def _k2k_note_unreachable(self, error):
        """An exchange with the partner got no K2K answer (``error``, a
        ``K2KTransportError``; a refusal signed by the partner, such as
        a key crossing ours, or a body too large for it, is an answer). From
        the ``k2k_network.pause_after_failures``-th in a row (3), nothing
        more is sent to it for as long as a message waits after as many
        failed attempts (``_k2k_get_retry_delay``: 4 minutes after the
        third, doubling, capped): not even a message queued meanwhile, nor
        one a user sends now. Recorded in a savepoint: it never rolls back
        what the run did for others."""
        self.ensure_one()
        if error.kind == "refused" or error.status == 413:
            return
        Message = self.env["k2k.message"]
        threshold = Message._k2k_get_setting("k2k_network.pause_after_failures", 3)
        failures = self.delivery_failures + 1
        vals = {"delivery_failures": failures}
        if failures >= threshold:
            seconds = Message._k2k_get_retry_delay(failures - 1)
            vals["delivery_paused_until"] = fields.Datetime.now() + timedelta(
                seconds=seconds
            )
        self.env.flush_all()  # as in _k2k_note_partner_status
        try:
            with self.env.cr.savepoint():
                self.sudo().write(vals)
                if failures == threshold:
                    self.sudo()._message_log(
                        body=self.env._(
                            "%(partner)s gave no K2K answer %(count)s times in a "
                            "row: nothing is sent to it until %(when)s (UTC), then "
                            "one attempt tells whether it is back.",
                            partner=self.remote_company_name or self.remote_url,
                            count=failures,
                            when=fields.Datetime.to_string(
                                vals["delivery_paused_until"]
                            ),
                        )
                    )
        except Exception:
            _logger.exception("K2K: the failure of %s cannot be counted", self.id)
        if "delivery_paused_until" in vals:
            Message._k2k_trigger_processing(at=vals["delivery_paused_until"])

    def _k2k_note_reached(self):
        """The partner answered: it is not failing (the row is written only
        when it was)."""
        reached = self.filtered(
            lambda c: c.delivery_failures or c.delivery_paused_until
        )
        if not reached:
            return
        self.env.flush_all()  # as in _k2k_note_partner_status
        try:
            with self.env.cr.savepoint():
                reached.sudo().write(
                    {"delivery_failures": 0, "delivery_paused_until": False}
                )
        except Exception:
            _logger.warning(
                "K2K: %s answered again; noted at its next answer",
                reached.ids,
                exc_info=True,
            )

    def _k2k_is_paused(self):
        self.ensure_one()
        until = self.delivery_paused_until
        return bool(until and until > fields.Datetime.now())

    def action_k2k_resume_deliveries(self):
        """An administrator knows the partner is back: send it what waits,
        now."""
        self.check_access("write")
        self.sudo().write({"delivery_failures": 0, "delivery_paused_until": False})
        # What waits because the partner failed goes now; what waits on
        # purpose (a partner's switch flipping) keeps its time.
        self.env["k2k.message"].sudo().search(
            [
                ("connection_id", "in", self.ids),
                ("state", "=", "queued"),
                ("error", "!=", False),
            ]
        ).write({"next_attempt_date": False})
        self.env["k2k.message"]._k2k_trigger_processing()
        for connection in self:
            connection._message_log(
                body=self.env._(
                    "%(user)s asked to send to the partner again now.",
                    user=self.env.user.name,
                )
            )

    def _k2k_requeue_after_partner_change(self):
        """The partner turned an automation on: what waited for it goes
        again, at once the first time, and later at each further change
        within the hour (``retry_base_seconds``, doubled, capped), so that a
        partner that flips its switches at every answer does not make every
        waiting message (and its PDF) go again at each flip."""
        self.ensure_one()
        Message = self.env["k2k.message"]
        now = fields.Datetime.now()
        last = self.remote_settings_changed_date
        recent = last and (now - last).total_seconds() < 3600
        changes = self.remote_settings_changes + 1 if recent else 1
        self.write(
            {"remote_settings_changes": changes, "remote_settings_changed_date": now}
        )
        when = False
        if changes > 1:
            when = now + timedelta(seconds=Message._k2k_get_retry_delay(changes - 2))
        Message._k2k_requeue_waiting([("connection_id", "=", self.id)], at=when)

    @api.model
    def _k2k_is_neutralized(self):
        params = self.env["ir.config_parameter"].sudo()
        return bool(params.get_param("database.is_neutralized"))

    @api.model
    def _k2k_neutralized_text(self):
        return self.env._(
            "This database is a neutralized copy: it sends nothing to other "
            "databases."
        )

    @api.model
    def _k2k_get_timeout(self):
        """Seconds one exchange with the partner may take, all of it (to
        connect, post and read the whole answer), not each read."""
        params = self.env["ir.config_parameter"].sudo()
        try:
            seconds = float(params.get_param("k2k_network.http_timeout", "30"))
        except ValueError:
            seconds = 30.0
        return min(max(seconds, 1.0), 600.0)

    def _k2k_describe_error(self, error):
        """A transport failure in words for the synchronization log."""
        self.ensure_one()
        partner = self.remote_company_name or self.remote_url
        if error.kind == "unreachable":
            return self.env._(
                "Cannot reach %(partner)s at %(url)s: %(error)s",
                partner=partner,
                url=error.url,
                error=error.detail,
            )
        if error.kind == "refused":
            return self.env._(
                "%(partner)s refused it for now (HTTP %(status)s): %(reason)s",
                partner=partner,
                status=error.status,
                reason=error.detail,
            )
        if error.status == 200 and not error.detail:
            return self.env._(
                "%(partner)s answered without a K2K outcome.", partner=partner
            )
        return self.env._(
            "%(partner)s gave no K2K answer (HTTP %(status)s): %(text)s",
            partner=partner,
            status=error.status,
            text=error.detail,
        )
