# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hmac
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import wire


# The keys of a connection to another database, apart from the transport
# that signs with them (k2k_connection_http.py).
class K2KConnection(models.Model):
    """Each side of a connection to another database owns the key that signs
    the requests it receives (and its answers to them), and gives it to the
    partner: one key per direction. The invitation secret signs the handshake
    only, in which the two sides give each other their keys; a key change
    gives a new one over the wire, through the outbox."""

    _inherit = "k2k.connection"  # pylint: disable=consider-merging-classes-inherited

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

    @api.depends("inbound_key_previous")
    def _compute_key_change_pending(self):
        for connection in self:
            connection.key_change_pending = bool(connection.sudo().inbound_key_previous)

    # -- invitation ------------------------------------------------------------

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
