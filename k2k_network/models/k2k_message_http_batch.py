# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, models
from odoo.exceptions import UserError

from .. import wire
from ..http_client import K2KTransportError

_logger = logging.getLogger(__name__)


class K2KMessage(models.Model):
    """Several messages to one partner in another database in one request:
    each is checked and built on its own, they travel together, and each
    gets its own outcome back."""

    _inherit = "k2k.message"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _k2k_get_http_batch_size(self):
        """How many messages may share one request (at most what a
        receiver takes, ``wire.MAX_BATCH``)."""
        params = self.env["ir.config_parameter"].sudo()
        try:
            size = int(params.get_param("k2k_network.http_batch_size", wire.MAX_BATCH))
        except ValueError:
            size = wire.MAX_BATCH
        return min(max(size, 1), wire.MAX_BATCH)

    def _k2k_travels_in_batch(self):
        """Whether this message may share a request with others of its
        connection: to an active partner in another database, from a
        database that sends, and not a key change (which travels alone)."""
        self.ensure_one()
        connection = self.connection_id
        return bool(
            connection.transport == "http"
            and connection.state == "active"
            and connection.remote_url
            and self.message_type != "keys"
            and not connection._k2k_is_neutralized()
        )

    def _k2k_send_group(self):
        """Deliver messages of one connection, in one request when they are
        several; return whether the partner could be reached."""
        if len(self) == 1:
            return self._k2k_send_one()
        envelopes = {}
        for message in self:

            def build(message=message):
                message._k2k_check_sendable()
                envelopes[message] = message._k2k_get_envelope()

            message._k2k_attempt(build)
        ready = self.filtered(lambda m: m in envelopes)
        if not ready:
            return True
        connection = ready.connection_id
        try:
            outcomes = connection._k2k_deliver_http_batch(
                [envelopes[message] for message in ready]
            )
        except K2KTransportError as error:
            _logger.info("K2K messages %s postponed: %s", ready.ids, error)
            detail = connection._k2k_describe_error(error)
            for message in ready:
                message._k2k_schedule_retry(detail)
            return False
        except UserError:
            outcomes = None  # told message by message below
        if outcomes is None:
            # The partner takes no batch like this one: one by one.
            return all(message._k2k_send_one() for message in ready)
        for message, outcome in zip(ready, outcomes, strict=True):
            message._k2k_record_slot(outcome)
        return True

    def _k2k_record_slot(self, outcome):
        """Record this message's outcome from its slot of a batch's answer."""
        self.ensure_one()
        connection = self.connection_id
        try:
            self._k2k_attempt(
                lambda: self._k2k_record_outcome(connection._k2k_slot_outcome(outcome))
            )
        except K2KTransportError as error:
            _logger.info("K2K message %s postponed: %s", self.id, error)
            self._k2k_schedule_retry(connection._k2k_describe_error(error))
