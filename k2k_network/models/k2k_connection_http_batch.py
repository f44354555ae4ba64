# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models
from odoo.exceptions import UserError

from .. import http_client, wire
from ..http_client import K2KTransportError


class K2KConnection(models.Model):
    """Several messages to a partner in another database in one request,
    and requests posted one after the other on a thread that touches no
    database while the sender builds the next ones."""

    _inherit = "k2k.connection"  # pylint: disable=consider-merging-classes-inherited

    def _k2k_http_batch_post_args(self, envelopes):
        """The arguments of ``http_client.post_signed`` for ``envelopes`` in
        one request (see ``_k2k_http_post_args``)."""
        return self._k2k_http_post_args(wire.BATCH_PATH, {"messages": envelopes})

    def _k2k_start_http_batch(self, envelopes):
        """Sign ``envelopes`` and start posting them in one request, on a
        thread of ``http_client`` that touches no database; return the
        request in flight, for ``_k2k_finish_http_batch``."""
        self.ensure_one()
        return http_client.post_signed_in_background(
            *self._k2k_http_batch_post_args(envelopes)
        )

    @api.model
    def _k2k_start_http_batches(self, batches):
        """Start posting ``batches`` (``[(connection, envelopes)]``) on one
        thread of ``http_client``, each once the one before it is answered;
        return a request per batch, for ``_k2k_finish_http_batch``: the
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
                    calls.append(connection._k2k_http_batch_post_args(envelopes))
                except UserError:
                    held.add(connection.id)
                else:
                    keys.append(connection.id)
                    counts.append(len(envelopes))
                    requests.append(len(calls) - 1)
                    continue
            requests.append(None)

        def ends_series(index, status, answer):
            return status >= 400 or wire.batch_outcomes(answer, counts[index]) is None

        futures = http_client.post_signed_one_after_another(calls, keys, ends_series)
        return [None if index is None else futures[index] for index in requests]

    def _k2k_finish_http_batch(self, request, count):
        """Wait for the answer to ``request`` (``count`` envelopes in one
        request); return one outcome per envelope, in order (a refused one
        as ``wire.refused_outcome``, see ``_k2k_slot_outcome``), or ``None``
        when the partner takes no batch like this one (an older version, a
        body too large): then they go one by one. Raise
        ``K2KTransportError`` when there is no answer to trust."""
        self.ensure_one()
        try:
            status, answer = request.result()
        except K2KTransportError as error:
            if error.kind == "no_answer" and error.status in (404, 413):
                return None
            raise
        self._k2k_note_reached()  # a signed answer: the partner is there
        if status >= 400:
            error = answer.get("error")
            if error in wire.TOO_LARGE_ERRORS:
                return None
            # The whole request refused: each of its messages with it.
            outcome = self._k2k_refusal_outcome(status, error, answer.get("reason"))
            return [outcome] * count
        outcomes = wire.batch_outcomes(answer, count)
        if outcomes is None:
            raise K2KTransportError("no_answer", self.remote_url, status)
        self._k2k_note_partner_status(answer.get("status"))
        return outcomes

    def _k2k_slot_outcome(self, outcome):
        """The outcome of one message from its slot of a batch's answer: a
        refusal read as a refused request would be."""
        if outcome.get("outcome") != wire.OUTCOME_REFUSED:
            return outcome
        return self._k2k_refusal_outcome(200, outcome["error"], outcome["reason"])
