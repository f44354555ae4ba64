# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, models
from odoo.exceptions import UserError

from .. import wire
from ..http_client import K2KNotPosted, K2KTransportError

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
        size = self._k2k_get_setting("k2k_network.http_batch_size", wire.MAX_BATCH)
        return min(size, wire.MAX_BATCH)

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

    @api.model
    def _k2k_get_prepare_size(self):
        """How many messages of consecutive batches are built together (one
        wkhtmltopdf run for their invoices), then posted one request after
        the other while the next ones are built: a larger run costs less per
        PDF, a smaller one gives the partners work sooner."""
        return self._k2k_get_setting("k2k_network.prepare_size", 60)

    @api.model
    def _k2k_get_send_steps(self, units):
        """``units`` (from ``_k2k_get_send_units``) as the steps of a send,
        in order: ``("batches", [unit, ...])`` for consecutive batches to
        partners in other databases, up to the prepare size (at least one
        batch), built together and posted one after the other;
        ``("alone", unit)`` for any other unit."""
        size = self._k2k_get_prepare_size()
        steps, run = [], []
        for unit in units:
            if len(unit) > 1 and unit[:1]._k2k_travels_in_batch():
                if run and sum(map(len, run)) + len(unit) > size:
                    steps.append(("batches", run))
                    run = []
                run.append(unit)
                continue
            if run:
                steps.append(("batches", run))
                run = []
            steps.append(("alone", unit))
        if run:
            steps.append(("batches", run))
        return steps

    def _k2k_build_envelopes(self):
        """Check and build the envelope of each message of ``self``; return
        the messages that could be built and their envelopes, in order."""
        envelopes = {}
        for message in self:

            def build(message=message):
                message._k2k_check_sendable()
                envelopes[message] = message._k2k_get_envelope()

            message._k2k_attempt(build)
        ready = self.filtered(lambda m: m in envelopes)
        return ready, [envelopes[message] for message in ready]

    @api.model
    def _k2k_start_chain(self, units, stopped):
        """Check and build each of ``units`` (batches, each to one partner in
        another database; none to a connection of ``stopped``) and start
        posting them one after the other; return the chain,
        ``[(messages, envelopes, request)]``, for ``_k2k_finish_chain``."""
        built = []
        for unit in units:
            unit = unit.filtered(lambda m: m.state == "queued")
            if unit and unit.connection_id not in stopped:
                ready, envelopes = unit._k2k_build_envelopes()
                if ready:
                    built.append((ready, envelopes))
        requests = self.env["k2k.connection"]._k2k_start_http_batches(
            [(ready.connection_id, envelopes) for ready, envelopes in built]
        )
        return [
            (ready, envelopes, request)
            for (ready, envelopes), request in zip(built, requests, strict=True)
        ]

    @api.model
    def _k2k_finish_chain(self, chain):
        """Read the answers to ``chain`` (from ``_k2k_start_chain``) in its
        order and record each message's outcome. A batch the chain did not
        post goes now, on its own, unless its partner could not be reached
        (it stays queued, in its place); return the connections that could
        not be reached."""
        unreachable = self.env["k2k.connection"]
        for messages, envelopes, request in chain:
            connection = messages.connection_id
            if connection in unreachable:
                if request is not None:
                    request.exception()  # nothing outlives the send
                continue
            if request is None or isinstance(request.exception(), K2KNotPosted):
                try:
                    request = connection._k2k_start_http_batch(envelopes)
                except UserError:
                    request = None  # told message by message
            if not messages._k2k_finish_group(request):
                unreachable |= connection
        return unreachable

    @api.model
    def _k2k_cancel_chain(self, chain):
        """Keep the requests of ``chain`` not posted yet from being posted
        (the send stopped: its transaction will not record their outcomes)."""
        for _messages, _envelopes, request in chain:
            if request is not None:
                request.cancel()

    def _k2k_finish_group(self, request):
        """Wait for the partner's answer to ``request`` (the batch of
        ``self``, started in a chain or again on its own; ``None``:
        they go one by one) and record each message's outcome; return
        whether the partner could be reached."""
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
            connection._k2k_note_unreachable(error)
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
