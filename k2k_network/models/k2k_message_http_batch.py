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

    def _k2k_get_send_units(self):
        """``self`` cut into what goes together, in order: messages to one
        partner in another database up to the batch size, messages to one
        partner of this database (``_k2k_applies_in_group``), any other
        message alone, after those of its connection queued before it."""
        size = self._k2k_get_http_batch_size()
        units = []
        pending = {}  # connection -> its messages waiting for a batch
        for message in self:
            connection = message.connection_id
            if message._k2k_travels_in_batch() or message._k2k_applies_in_group():
                group = pending.pop(connection, self.browse()) | message
                if len(group) < size or not message._k2k_travels_in_batch():
                    pending[connection] = group
                else:
                    units.append(group)
                    continue
            else:
                if connection in pending:
                    units.append(pending.pop(connection))
                units.append(message)
        units.extend(pending.values())
        return units

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

    def _k2k_start_group(self):
        """Check and build the envelopes of ``self``, messages to one
        connection, and start the request that carries them; return what
        ``_k2k_finish_group`` needs: the messages that went, and their
        request (``None`` when they must go one by one), or ``None`` when
        none could be built."""
        envelopes = {}
        for message in self:

            def build(message=message):
                message._k2k_check_sendable()
                envelopes[message] = message._k2k_get_envelope()

            message._k2k_attempt(build)
        ready = self.filtered(lambda m: m in envelopes)
        if not ready:
            return None
        try:
            request = ready.connection_id._k2k_start_http_batch(
                [envelopes[message] for message in ready]
            )
        except UserError:
            request = None  # told message by message when it finishes
        return ready, request

    def _k2k_finish_group(self, request):
        """Wait for the partner's answer to ``request`` (started by
        ``_k2k_start_group`` for ``self``) and record each message's
        outcome; return whether the partner could be reached."""
        connection = self.connection_id
        try:
            outcomes = (
                connection._k2k_finish_http_batch(request, len(self))
                if request
                else None
            )
        except K2KTransportError as error:
            _logger.info("K2K messages %s postponed: %s", self.ids, error)
            detail = connection._k2k_describe_error(error)
            for message in self:
                message._k2k_schedule_retry(detail)
            return False
        except UserError:
            outcomes = None
        if outcomes is None:
            # The partner takes no batch like this one: one by one.
            return all(message._k2k_send_one() for message in self)
        for message, outcome in zip(self, outcomes, strict=True):
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
