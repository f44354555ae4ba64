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
        """Deliver messages of one connection in this database, in order:
        runs the receiving side applies together, each other one alone."""
        envelopes = {}
        for message in self:

            def build(message=message):
                message._k2k_check_sendable()
                envelope = message._k2k_get_envelope()
                # What the receiving side checks of each one alone.
                wire.check_payload(envelope)
                if wire.receiving_side(envelope["type"]) in (wire.VENDOR, wire.BUYER):
                    envelopes[message] = envelope

            message._k2k_attempt(build)

        def alone(message):
            if message.state == "queued":
                message._k2k_send_one()

        slots = [(message, envelopes.get(message)) for message in self]
        together = self.connection_id._k2k_receive_batch(slots, alone)
        for message, outcome in together.items():
            message._k2k_attempt(
                lambda message=message, outcome=outcome: message._k2k_record_outcome(
                    outcome
                )
            )
