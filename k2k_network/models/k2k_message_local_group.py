# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from .. import wire


class K2KMessage(models.Model):
    """Several messages to one partner of this database: the receiving
    side applies together those its adapters can (as a batch request from
    another database is), the others one by one."""

    _inherit = "k2k.message"  # pylint: disable=consider-merging-classes-inherited

    def _k2k_applies_in_group(self):
        """Whether this message may be applied with others of its
        connection: to an active partner in this database."""
        self.ensure_one()
        connection = self.connection_id
        return connection.transport == "local" and connection.state == "active"

    def _k2k_send_local_group(self):
        """Deliver messages of one connection in this database: those the
        receiving side applies together, then each other one alone."""
        envelopes = {}
        for message in self:

            def build(message=message):
                message._k2k_check_sendable()
                envelope = message._k2k_get_envelope()
                # What the receiving side checks of each one alone.
                wire.check_payload(envelope)
                envelopes[message] = envelope

            message._k2k_attempt(build)
        connection = self.connection_id
        ready = self.filtered(lambda m: m in envelopes)
        outcomes = {}
        for side in {wire.receiving_side(m.message_type) for m in ready}:
            if side not in (wire.VENDOR, wire.BUYER):
                continue  # read by either side: alone
            group = ready.filtered(
                lambda m, side=side: wire.receiving_side(m.message_type) == side
            )
            receiver = connection.with_company(connection[f"{side}_company_id"])
            applied = receiver._k2k_receive_together(
                {message.id: envelopes[message] for message in group}
            )
            outcomes.update({self.browse(key): value for key, value in applied.items()})
        for message in self.filtered(lambda m: m.state == "queued"):
            if message in outcomes:
                message._k2k_attempt(
                    lambda message=message: message._k2k_record_outcome(
                        outcomes[message]
                    )
                )
            elif message in envelopes:
                message._k2k_send_one()
