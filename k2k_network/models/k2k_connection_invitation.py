# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hmac
import uuid

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import wire
from ..http_client import K2KTransportError


# The handshake has a file of its own, beside the remote side's record and
# transport (k2k_connection_http.py) that it uses.
class K2KConnection(models.Model):
    """The handshake with a partner in another database: one side accepts
    and creates an invitation code, the other joins with it (see the
    invitation wizard), and both connections become active at once."""

    _inherit = "k2k.connection"  # pylint: disable=consider-merging-classes-inherited

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
