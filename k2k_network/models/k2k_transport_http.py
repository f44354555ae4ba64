# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, models
from odoo.exceptions import UserError

from .. import http_client, wire
from ..http_client import K2KNotPosted, K2KTransportError

_logger = logging.getLogger(__name__)


class K2KTransportHttp(models.AbstractModel):
    """Messages to a partner in another database, over signed HTTP
    (``http_client`` is the socket side). Messages to one partner travel
    several to a request (a batch) and each gets its own outcome back;
    consecutive batches are built together (one wkhtmltopdf call) and posted one
    after the other, on a thread that touches no database, while the
    sender builds the next ones. A key change, a message a batch cannot
    carry, and the one message of a partner travel alone, to the
    single-message endpoint (the partners' single messages built together
    all the same)."""

    _name = "k2k.transport.http"
    _inherit = "k2k.transport"
    _description = "K2K Transport over HTTP"

    @api.model
    def _k2k_send(self, messages):
        steps = self._k2k_get_steps(self._k2k_get_batches(messages))
        # What never travels in a batch is built now, all of it together
        # (one wkhtmltopdf call for its invoices); the rest is built a step
        # at a time (a step of batches while the partners apply the one
        # before). A step's messages are all built before the first goes:
        # nothing a partner answers changes how another message is built.
        alone = messages.browse(
            [message.id for kind, message in steps if kind == "alone"]
        )
        # Messages that could not be built in time wait for a later run.
        held = alone._k2k_prepare_by_type()
        stopped = set()  # connections unreachable, or rekeyed
        rekeyed = False
        posted = []  # the step posted one batch after the other, answers not read yet
        try:
            for kind, step in steps:
                if kind != "alone":
                    held |= (
                        messages.browse([m.id for batch in step for m in batch])
                        .filtered(
                            lambda m, stopped=stopped: m.connection_id not in stopped
                        )
                        ._k2k_prepare_by_type()
                    )
                yield from self._k2k_finish_step(posted, stopped)
                if kind == "batches":
                    posted, failed = self._k2k_start_step(
                        [batch - held for batch in step], stopped
                    )
                    if failed:
                        yield failed
                    continue
                posted = []
                for message in step if kind == "singles" else [step]:
                    if message in held or message.connection_id in stopped:
                        continue
                    result = self._k2k_post_message(message)
                    yield {message: result}
                    if isinstance(result, K2KTransportError):
                        stopped.add(message.connection_id)
                    elif message.message_type == "keys":
                        # Nothing more goes with a key that is not committed
                        # yet: a crash before the commit would forget it,
                        # while the partner had already dropped the key
                        # before it.
                        stopped.add(message.connection_id)
                        rekeyed = True
            yield from self._k2k_finish_step(posted, stopped)
        except BaseException:
            # Stopped halfway (an error, or the outbox closed the send): its
            # transaction will not record what the rest of the step gets.
            self._k2k_cancel_step(posted)
            raise
        if rekeyed:
            messages._k2k_trigger_processing()

    # -- what goes together ------------------------------------------------

    @api.model
    def _k2k_get_batch_size(self):
        """How many messages may share one request (at most what a
        receiver takes, ``wire.MAX_BATCH``)."""
        size = self.env["k2k.message"]._k2k_get_setting(
            "k2k_network.http_batch_size", wire.MAX_BATCH
        )
        return min(size, wire.MAX_BATCH)

    @api.model
    def _k2k_get_prepare_size(self):
        """How many messages one step builds together (one wkhtmltopdf call
        for their invoices) before its requests go: a larger step costs
        less per PDF, a smaller one gives the partners work sooner."""
        return self.env["k2k.message"]._k2k_get_setting("k2k_network.prepare_size", 60)

    @api.model
    def _k2k_travels_in_batch(self, message):
        """Whether ``message`` may share a request with others of its
        connection: to an active partner with an address, from a database
        that sends, and not a key change (which travels alone)."""
        connection = message.connection_id
        return bool(
            connection.state == "active"
            and connection.remote_url
            and message.message_type != "keys"
            and not connection._k2k_is_neutralized()
        )

    @api.model
    def _k2k_get_batches(self, messages):
        """``messages`` cut into batches, each connection's in the order
        queued: its messages that travel in a batch up to the batch size;
        any other message alone, after those of its connection queued
        before it. The last batches of the connections come at the end, the
        larger first, those tried before last: the partners' single messages
        there follow each other, and are built together
        (``_k2k_get_steps``)."""
        size = self._k2k_get_batch_size()
        batches = []
        pending = {}  # connection -> its messages waiting for a batch
        for message in messages:
            connection = message.connection_id
            if self._k2k_travels_in_batch(message):
                batch = pending.pop(connection, messages.browse()) | message
                if len(batch) < size:
                    pending[connection] = batch
                else:
                    batches.append(batch)
                continue
            if connection in pending:
                batches.append(pending.pop(connection))
            batches.append(message)
        batches.extend(
            sorted(
                pending.values(),
                key=lambda batch: (self._k2k_tried_before(batch), -len(batch)),
            )
        )
        return batches

    @api.model
    def _k2k_get_steps(self, batches):
        """``batches`` (from ``_k2k_get_batches``) as the steps of a send,
        in order: ``("batches", [batch, ...])`` for consecutive batches of
        several messages, up to the prepare size (at least one batch), built
        together and posted one after the other; ``("singles", [message,
        ...])`` for consecutive messages that could travel in a batch but
        have none to share it (the one message of a partner, say), built
        together too, then posted one by one; ``("alone", message)`` for a
        message that never travels in a batch (built before the first
        step). A batch or message tried before makes a step of its own: were
        its PDF one that cannot be made in time, it would hold the others'
        again."""
        size = self._k2k_get_prepare_size()
        steps, step, kind, step_retried = [], [], None, False
        for batch in batches:
            if len(batch) > 1:
                batch_kind = "batches"
            elif self._k2k_travels_in_batch(batch):
                batch_kind = "singles"
            else:
                batch_kind = "alone"
            retried = self._k2k_tried_before(batch)
            if step and (
                batch_kind != kind
                or retried
                or step_retried
                or sum(map(len, step)) + len(batch) > size
            ):
                steps.append((kind, step))
                step = []
            if batch_kind == "alone":
                steps.append(("alone", batch))
                continue
            kind, step_retried = batch_kind, retried
            step.append(batch)
        if step:
            steps.append((kind, step))
        return steps

    @api.model
    def _k2k_tried_before(self, batch):
        """Whether a message of ``batch`` was tried before: its step is its
        own (``_k2k_get_steps``)."""
        return any(batch.mapped("attempt_count"))

    # -- one message, one request ------------------------------------------

    @api.model
    def _k2k_post_message(self, message):
        """Build ``message`` and post it alone; return its result (see
        ``k2k.transport._k2k_send``)."""
        envelope = message._k2k_build_envelopes()[message]
        if isinstance(envelope, Exception):
            return envelope
        return self._k2k_post_envelope(message, envelope)

    @api.model
    def _k2k_post_envelope(self, message, envelope):
        """Post ``envelope``, the one of ``message``, alone; return its
        result. A partner that gives no answer is noted (see
        ``k2k.connection._k2k_note_unreachable``)."""
        connection = message.connection_id
        try:
            with self.env.cr.savepoint():
                return self._k2k_deliver(connection, envelope)
        except K2KTransportError as error:
            _logger.info("K2K message %s postponed: %s", message.id, error)
            connection._k2k_note_unreachable(error)
            # Out of the savepoint the error rolled back: a refusal tried
            # again later still tells where the partner stands.
            connection._k2k_note_refusal_status(getattr(error, "answer", None))
            return error
        except Exception as error:  # noqa: BLE001 - recorded on the message
            return error

    @api.model
    def _k2k_deliver(self, connection, envelope):
        """Post ``envelope`` to the partner's endpoint; its answer is the
        receiver's own outcome. Raise ``K2KTransportError`` when there is no
        answer to trust, so that the message is tried again later."""
        if connection._k2k_is_neutralized():
            return {
                "outcome": wire.OUTCOME_WAITING,
                "detail": connection._k2k_neutralized_text(),
            }
        status, answer = connection._k2k_http_post(
            wire.MESSAGE_PATH, self._k2k_with_position(connection, envelope)
        )
        connection._k2k_note_reached()  # a signed answer: the partner is there
        if status >= 400:
            try:
                outcome = self._k2k_refusal_outcome(
                    connection, status, answer.get("error"), answer.get("reason")
                )
            except K2KTransportError as error:
                error.answer = answer  # noted by the caller
                raise
            connection._k2k_note_refusal_status(answer)
            return outcome
        if answer.get("outcome") not in wire.OUTCOMES:
            raise K2KTransportError("no_answer", connection.remote_url, status)
        outcome = wire.public_outcome(answer)
        connection._k2k_note_partner_status(
            answer.get("status"),
            self._k2k_receipts_of([outcome]),
            self._k2k_applied_status([envelope], [outcome]),
        )
        return outcome

    @api.model
    def _k2k_refusal_outcome(self, connection, status, error, reason):
        """A K2K refusal as an outcome: "not now" waits, an error that may
        pass raises ``K2KTransportError`` (tried again later), any other
        fails the message for good."""
        reason = reason or error
        partner = connection.remote_company_name
        if error in wire.RETRY_ERRORS:
            raise K2KTransportError("refused", connection.remote_url, status, reason)
        if error in wire.NOT_NOW_ERRORS:
            return {
                "outcome": wire.OUTCOME_WAITING,
                "detail": self.env._(
                    "%(partner)s does not take messages now: %(reason)s",
                    partner=partner,
                    reason=reason,
                ),
            }
        return {
            "outcome": "failed",
            "refused": True,
            "detail": self.env._(
                "Refused by %(partner)s: %(reason)s", partner=partner, reason=reason
            ),
        }

    # -- batches, posted one after the other -------------------------------

    @api.model
    def _k2k_start_step(self, batches, stopped):
        """Build each of ``batches`` (none to a connection of ``stopped``)
        and start posting them one after the other; return them posted,
        ``[(messages, envelopes, request)]``, for ``_k2k_finish_step``, and
        ``{message: error}`` for the messages that could not be built."""
        built, failed = [], {}
        for batch in batches:
            if batch and batch.connection_id not in stopped:
                envelopes = batch._k2k_build_envelopes()
                ready = batch.filtered(
                    lambda m, envelopes=envelopes: isinstance(envelopes[m], dict)
                )
                failed.update({m: envelopes[m] for m in batch - ready})
                if ready:
                    built.append((ready, [envelopes[m] for m in ready]))
        requests = self._k2k_start_batches(
            [(ready.connection_id, envelopes) for ready, envelopes in built]
        )
        posted = [
            (ready, envelopes, request)
            for (ready, envelopes), request in zip(built, requests, strict=True)
        ]
        return posted, failed

    @api.model
    def _k2k_finish_step(self, posted, stopped):
        """Read the answers to ``posted`` (from ``_k2k_start_step``) in its
        order and yield each batch's results. A batch not posted there
        goes now, on its own, unless its partner could not be reached (it
        stays queued, in its place); a partner that could not be reached is
        added to ``stopped``."""
        for messages, envelopes, request in posted:
            connection = messages.connection_id
            if connection in stopped:
                if request is not None:
                    request.exception()  # nothing outlives the send
                continue
            if request is None or isinstance(request.exception(), K2KNotPosted):
                try:
                    request = self._k2k_start_batch(connection, envelopes)
                except UserError:
                    request = None  # told message by message
            results = {}
            if not self._k2k_finish_batch(messages, envelopes, request, results):
                stopped.add(connection)
            yield results

    @api.model
    def _k2k_cancel_step(self, posted):
        """Keep the requests of ``posted`` not posted yet from being posted
        (the send stopped: its transaction will not record their outcomes)."""
        for _messages, _envelopes, request in posted:
            if request is not None:
                request.cancel()

    @api.model
    def _k2k_finish_batch(self, messages, envelopes, request, results):
        """Wait for the partner's answer to ``request`` (the batch of
        ``messages``, started in a step or again on its own; ``None``: they
        go one by one) and put each message's result in ``results``; return
        whether the partner could be reached."""
        connection = messages.connection_id
        try:
            outcomes = (
                self._k2k_read_batch_answer(connection, request, envelopes)
                if request
                else None
            )
        except K2KTransportError as error:
            _logger.info("K2K messages %s postponed: %s", messages.ids, error)
            results.update(dict.fromkeys(messages, error))
            connection._k2k_note_unreachable(error)
            return False
        except UserError:
            outcomes = None
        if outcomes is None:
            # The partner takes no batch like this one: one by one.
            for message, envelope in zip(messages, envelopes, strict=True):
                results[message] = self._k2k_post_envelope(message, envelope)
                if isinstance(results[message], K2KTransportError):
                    return False
            return True
        for message, outcome in zip(messages, outcomes, strict=True):
            try:
                results[message] = self._k2k_read_outcome(connection, outcome)
            except K2KTransportError as error:
                _logger.info("K2K message %s postponed: %s", message.id, error)
                results[message] = error
        return True

    @api.model
    def _k2k_batch_post_args(self, connection, envelopes):
        """The arguments of ``http_client.post_signed`` for ``envelopes`` in
        one request (see ``k2k.connection._k2k_http_post_args``)."""
        return connection._k2k_http_post_args(
            wire.BATCH_PATH,
            self._k2k_with_position(connection, {"messages": envelopes}),
        )

    @api.model
    def _k2k_with_position(self, connection, body):
        """``body`` with where this side stands (``k2k.remote.position``)."""
        position = connection._k2k_get_position()
        return dict(body, position=position) if position else body

    @api.model
    def _k2k_start_batch(self, connection, envelopes):
        """Sign ``envelopes`` and start posting them in one request, on a
        thread of ``http_client`` that touches no database; return the
        request in flight, for ``_k2k_read_batch_answer``."""
        return http_client.post_signed_in_background(
            *self._k2k_batch_post_args(connection, envelopes)
        )

    @api.model
    def _k2k_start_batches(self, batches):
        """Start posting ``batches`` (``[(connection, envelopes)]``) on one
        thread of ``http_client``, each once the one before it is answered;
        return a request per batch, for ``_k2k_read_batch_answer``: the
        sender builds the next batches meanwhile. A batch that cannot be
        posted from here gets ``None``, and so does every later batch of its
        connection: the caller sends those itself, in their order. After a
        batch of a connection that gets no answer, a refusal or an answer
        that is not a batch's, the later ones of that connection are not
        posted (``http_client.K2KNotPosted``)."""
        calls, keys, counts, requests = [], [], [], []
        held = set()  # connections whose batches the caller sends itself
        for connection, envelopes in batches:
            if connection.id not in held:
                try:
                    calls.append(self._k2k_batch_post_args(connection, envelopes))
                except UserError:
                    held.add(connection.id)
                else:
                    keys.append(connection.id)
                    counts.append(len(envelopes))
                    requests.append(len(calls) - 1)
                    continue
            requests.append(None)

        def stops_partner(index, status, answer):
            # Its partner's later batches are not posted after this answer.
            return status >= 400 or wire.batch_outcomes(answer, counts[index]) is None

        futures = http_client.post_signed_one_after_another(calls, keys, stops_partner)
        return [None if index is None else futures[index] for index in requests]

    @api.model
    def _k2k_read_batch_answer(self, connection, request, envelopes):
        """Wait for the answer to ``request`` (``envelopes`` in one
        request); return one outcome per envelope, in order (a refused one
        as ``wire.refused_outcome``, see ``_k2k_read_outcome``), or ``None``
        when the partner takes no batch like this one (an older version, a
        body too large): then they go one by one. Raise
        ``K2KTransportError`` when there is no answer to trust."""
        try:
            status, answer = request.result()
        except K2KTransportError as error:
            if error.kind == "no_answer" and error.status in (404, 413):
                return None
            raise
        connection._k2k_note_reached()  # a signed answer: the partner is there
        if status >= 400:
            error = answer.get("error")
            if error in wire.TOO_LARGE_ERRORS:
                return None
            # The whole request refused: each of its messages with it.
            connection._k2k_note_refusal_status(answer)
            outcome = self._k2k_refusal_outcome(
                connection, status, error, answer.get("reason")
            )
            return [outcome] * len(envelopes)
        outcomes = wire.batch_outcomes(answer, len(envelopes))
        if outcomes is None:
            raise K2KTransportError("no_answer", connection.remote_url, status)
        connection._k2k_note_partner_status(
            answer.get("status"),
            self._k2k_receipts_of(outcomes),
            self._k2k_applied_status(envelopes, outcomes),
        )
        return outcomes

    @api.model
    def _k2k_applied_status(self, envelopes, outcomes):
        """Whether the partner applied a status of this side among
        ``envelopes``: applying it wrote the partner's connection row, so
        its answer was made after whatever of the partner wrote that row
        before (a new history it began) was committed, and tells where the
        partner stands for sure."""
        return any(
            envelope.get("type") == "status"
            and outcome.get("outcome") == wire.OUTCOME_APPLIED
            for envelope, outcome in zip(envelopes, outcomes, strict=True)
        )

    @api.model
    def _k2k_receipts_of(self, outcomes):
        """The receipts the partner gave in ``outcomes``."""
        receipts = (wire.read_receipt(outcome) for outcome in outcomes)
        return [receipt for receipt in receipts if receipt is not None]

    @api.model
    def _k2k_read_outcome(self, connection, outcome):
        """The outcome of one message as a batch's answer gives it: a
        refusal read as a refused request would be."""
        if outcome.get("outcome") != wire.OUTCOME_REFUSED:
            return outcome
        return self._k2k_refusal_outcome(
            connection, 200, outcome["error"], outcome["reason"]
        )
