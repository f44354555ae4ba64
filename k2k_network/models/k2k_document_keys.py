# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class K2KDocumentKeys(models.AbstractModel):
    """A key change: the sender gives the key it will check the partner's
    requests with from now on, the receiver answers with a new key of its
    own. It travels through the outbox, so that it survives a partner down
    or a crash; the key itself is read from the connection when the message
    leaves, never kept in the log."""

    _name = "k2k.document.keys"
    _inherit = "k2k.document"
    _description = "K2K Key Change Adapter"

    @api.model
    def _k2k_get_message_types(self):
        return {
            **super()._k2k_get_message_types(),
            "keys": self.env._("Key Change"),
        }

    # -- export ------------------------------------------------------------

    @api.model
    def _k2k_get_message_name(self, message_type, record):
        return self.env._(
            "New keys of %(company)s", company=record._get_local_company().name
        )

    @api.model
    def _k2k_get_sender(self, message_type, record):
        return record

    @api.model
    def _k2k_describe_superseded(self):
        return self.env._("Superseded by a newer key change.")

    @api.model
    def _k2k_complete_envelope(self, message, envelope):
        connection = message.connection_id.sudo()
        payload = dict(envelope["payload"], key=connection.inbound_key)
        return dict(super()._k2k_complete_envelope(message, envelope), payload=payload)

    @api.model
    def _k2k_on_outcome(self, message, outcome):
        result = super()._k2k_on_outcome(message, outcome)
        connection = message.connection_id.sudo()
        if outcome["outcome"] == "applied" and outcome.get("key"):
            connection._k2k_take_partner_key(outcome["key"])
            # Signed with the partner's new key: the partner's change is done.
            connection._k2k_notify_partner()
        elif outcome.get("refused") and connection.inbound_key_previous:
            # The partner refused it in a signed answer: it never took the
            # new key. (A failure of ours proves nothing: keep both keys.)
            connection.write(
                {
                    "inbound_key": connection.inbound_key_previous,
                    "inbound_key_previous": False,
                }
            )
        return result

    # -- apply -------------------------------------------------------------

    @api.model
    def _k2k_apply(self, connection, envelope):
        """The partner gives its new key; answer with ours (a new one,
        unless a change of ours is still under way or this is a repeat)."""
        key = envelope["payload"]["key"]
        connection = connection.sudo()
        repeat = key == connection.outbound_key
        connection._k2k_take_partner_key(key)
        if not repeat and not connection.inbound_key_previous:
            connection._k2k_give_new_inbound_key()
            connection._message_log(
                body=self.env._(
                    "%(partner)s changed the keys of this connection.",
                    partner=connection.remote_company_name,
                )
            )
        if not repeat:
            # Signed with the partner's new key: its change is done.
            connection._k2k_notify_partner()
        outcome = self._k2k_outcome("applied", self.env._("Keys changed."))
        return dict(outcome, key=connection.inbound_key)
