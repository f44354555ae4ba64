# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The endpoints a partner in another database posts K2K messages to.

Every request is checked in the same order (size, routing, connection,
clock, signature, replay, body, state) and answered with JSON: the
receiver's outcome, or a 4xx status with an error code and a reason. A
refused request changes nothing but the inbound request log.
"""

import json
import logging
import time

from odoo import SUPERUSER_ID, http
from odoo.http import request

from .. import wire

_logger = logging.getLogger(__name__)


# How far above k2k_network.max_request_bytes a body is still read, so that
# the sender gets a K2K refusal (which it takes as final) and not Odoo's page.
ROUTE_MARGIN_BYTES = 1024 * 1024


class K2KController(http.Controller):
    @http.route(
        [wire.MESSAGE_PATH, wire.BATCH_PATH, wire.HANDSHAKE_PATH],
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        # Odoo refuses a larger body before it reads (or parses) it; up to
        # there, the addon answers a refusal of its own, logged.
        max_content_length=lambda controller: controller._k2k_route_max_bytes(),
    )
    def k2k_endpoint(self):
        handlers = {
            wire.MESSAGE_PATH: self._k2k_handle_message,
            wire.BATCH_PATH: self._k2k_handle_batch,
            wire.HANDSHAKE_PATH: self._k2k_handle_handshake,
        }
        return self._k2k_serve(handlers[request.httprequest.path])

    def _k2k_describe_body(self, data):
        """What the inbound request log says a body carried: its type and
        document, or, for a batch, each envelope's (comma-separated)."""
        envelopes = data.get("messages")
        if not isinstance(envelopes, list):
            return {
                "message_type": data.get("type"),
                "document_uid": data.get("document_uid"),
            }
        envelopes = [e for e in envelopes if isinstance(e, dict)]

        def joined(key):
            return ",".join(str(e.get(key)) for e in envelopes)[:4000] or False

        return {"message_type": joined("type"), "document_uid": joined("document_uid")}

    def _k2k_max_body_bytes(self):
        return request.env(su=True)["k2k.request"]._k2k_max_body_bytes()

    def _k2k_route_max_bytes(self):
        """The most of a body Odoo reads for this route: nothing for a
        request without the K2K headers (refused from them, before its body
        is read, see ``_k2k_check_headers``), else a little above the cap."""
        if not self._k2k_has_signed_headers():
            return 0
        return self._k2k_max_body_bytes() + ROUTE_MARGIN_BYTES

    def _k2k_has_signed_headers(self):
        headers = request.httprequest.headers
        return all(
            headers.get(name)
            for name in (
                wire.HEADER_CONNECTION,
                wire.HEADER_TIMESTAMP,
                wire.HEADER_NONCE,
                wire.HEADER_SIGNATURE,
            )
        )

    def _k2k_check_headers(self, env):
        """Refuse a request without the K2K headers before its body is
        read: anyone may send one, it costs a log line."""
        if not self._k2k_has_signed_headers():
            raise wire.Refused(
                401,
                wire.ERROR_UNSIGNED,
                env._(
                    "The K2K connection, timestamp, nonce and signature headers "
                    "are required."
                ),
            )

    # -- one path for both endpoints ---------------------------------------

    def _k2k_serve(self, handle):
        # A partner's request acts as the K2K user (the superuser, under its
        # own name): what it makes here is made by "K2K Network", as when
        # the partner is in this database (k2k.connection._k2k_as_receiver).
        env = request.env(user=SUPERUSER_ID, su=True)
        env = env(user=env["k2k.connection"]._k2k_get_user(), su=True)
        log = {
            "endpoint": request.httprequest.path,
            "remote_addr": request.httprequest.remote_addr,
        }
        # Filled as soon as the connection is known: its answers are signed.
        signer = {}
        try:
            connection, data, nonce = self._k2k_authenticate(env, log, signer)
            log.update(connection_id=connection.id, **self._k2k_describe_body(data))
            answer = self._k2k_handle(env, handle, connection, data)
        except wire.Refused as refusal:
            return self._k2k_refuse(env, log, refusal, signer)
        env["k2k.request"].create(
            dict(
                log,
                status_code=200,
                accepted=True,
                nonce=nonce,
                reason=answer.get("detail"),
            )
        )
        # Records of this database mean nothing to the partner: words only.
        status = env["k2k.document.status"]._k2k_export_status_now(connection)
        answer = dict(self._k2k_public_answer(answer), ok=True, status=status)
        return self._k2k_respond(answer, 200, signer)

    def _k2k_public_answer(self, answer):
        public = wire.public_outcome(answer)
        if "outcomes" in answer:
            # A batch's: each outcome already made public by _k2k_handle_batch.
            public["outcomes"] = answer["outcomes"]
        return public

    def _k2k_respond(self, answer, status, signer):
        """The JSON answer, signed for the connection that asked (when it is
        known) and bound to its request's nonce."""
        body = json.dumps(answer).encode()
        headers = [("Content-Type", "application/json")]
        if signer:
            headers += wire.answer_headers(
                signer["key"],
                request.httprequest.path,
                signer["database"],
                signer["connection"].connection_uid,
                signer["nonce"],
                status,
                body,
                time.time(),
            ).items()
        return request.make_response(body, headers=headers, status=status)

    def _k2k_handle(self, env, handle, connection, data):
        """Run the handler; a business refusal or a garbled body is a
        ``wire.Refused``, and rolls back whatever the handler began."""
        if isinstance(data, dict):
            # Before the handler's savepoint: a request refused until the
            # partner's address is asked keeps the question it raised.
            connection._k2k_check_told_history(data.get("position"))
        try:
            with env.cr.savepoint():
                return handle(connection, data)
        except Exception as error:
            refusal = env["k2k.inbox"]._k2k_as_refusal(error)
            if refusal is None or refusal is error:
                raise
            raise refusal from error

    def _k2k_refuse(self, env, log, refusal, signer):
        _logger.warning(
            "K2K request to %s from %s refused (%s): %s",
            log["endpoint"],
            log["remote_addr"],
            refusal.error,
            refusal.reason,
        )
        env["k2k.request"]._k2k_log_refusal(
            dict(
                log,
                status_code=refusal.status,
                error_code=refusal.error,
                reason=refusal.reason,
                nonce=self._k2k_nonce_to_keep(refusal, signer),
            )
        )
        answer = {"ok": False, "error": refusal.error, "reason": refusal.reason}
        if signer and request.httprequest.path != wire.HANDSHAKE_PATH:
            # Signed for the partner, as an answer: where this side stands
            # tells it, even when nothing it sent was taken.
            answer["status"] = env["k2k.document.status"]._k2k_export_status_now(
                signer["connection"]
            )
        return self._k2k_respond(answer, refusal.status, signer)

    def _k2k_nonce_to_keep(self, refusal, signer):
        """The nonce a refusal keeps: that of every request whose signature
        was verified (``signer`` is filled then), whatever the refusal, so
        that a request refused now is never applied when replayed later.
        A replay's own nonce is kept already."""
        if not signer or refusal.error == wire.ERROR_REPLAYED_REQUEST:
            return False
        return signer["nonce"]

    def _k2k_authenticate(self, env, log, signer):
        """Return (connection, decoded body, nonce) or raise wire.Refused."""
        self._k2k_check_headers(env)
        headers = request.httprequest.headers
        database = headers.get(wire.HEADER_DATABASE, "")
        uid = headers.get(wire.HEADER_CONNECTION, "")
        timestamp = headers.get(wire.HEADER_TIMESTAMP, "")
        nonce = headers.get(wire.HEADER_NONCE, "")
        signature = headers.get(wire.HEADER_SIGNATURE, "")
        connection = self._k2k_find_connection(env, database, uid)
        log["connection_id"] = connection.id
        body = self._k2k_read_body(env)
        key_name = self._k2k_check_signature(
            env, connection, signature, database, timestamp, nonce, body, signer
        )
        try:
            data = wire.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise wire.Refused(
                400, wire.ERROR_MALFORMED_BODY, env._("The body is not a JSON object.")
            )
        # Only now: a request that proved nothing leaves the keys as they were.
        connection._k2k_note_key_used(key_name)
        return connection.with_context(k2k_signed_with=key_name), data, nonce

    def _k2k_read_body(self, env):
        httprequest = request.httprequest
        max_bytes = env["k2k.request"]._k2k_max_body_bytes()
        length = httprequest.content_length
        if length is None:
            raise wire.Refused(
                411, wire.ERROR_LENGTH_REQUIRED, env._("Give a Content-Length.")
            )
        if length > max_bytes:
            raise wire.Refused(
                413,
                wire.ERROR_BODY_TOO_LARGE,
                env._(
                    "The body has %(length)s bytes; at most %(max)s are taken.",
                    length=length,
                    max=max_bytes,
                ),
            )
        # Cached: Odoo runs the handler again after a serialization failure,
        # and the second run must read the same body.
        return httprequest.get_data()

    def _k2k_find_connection(self, env, database, uid):
        if database != env.cr.dbname:
            # Named neither way: a prober learns no database name here.
            raise wire.Refused(
                421,
                wire.ERROR_WRONG_DATABASE,
                env._("This server does not answer for that database."),
            )
        connection = env["k2k.connection"].search(
            [("connection_uid", "=", uid), ("transport", "=", "http")], limit=1
        )
        if not connection:
            raise wire.Refused(
                404, wire.ERROR_UNKNOWN_CONNECTION, env._("Unknown connection.")
            )
        return connection

    def _k2k_check_signature(
        self, env, connection, signature, database, timestamp, nonce, body, signer
    ):
        """Check the request against each key it may be signed with; return
        the name of the key that signed it. From then on the answer is
        signed with that key."""
        if not wire.is_fresh(timestamp, time.time()):
            raise wire.Refused(
                401,
                wire.ERROR_STALE_REQUEST,
                env._(
                    "The request's time is not within %(seconds)s seconds of ours.",
                    seconds=wire.MAX_CLOCK_SKEW,
                ),
            )
        httprequest = request.httprequest
        signed = (
            httprequest.method,
            httprequest.path,
            database,
            connection.connection_uid,
            timestamp,
            nonce,
            body,
        )
        keys = connection._k2k_get_signing_keys(httprequest.path)
        if not keys and httprequest.path == wire.HANDSHAKE_PATH:
            raise wire.Refused(
                409,
                wire.ERROR_NO_INVITATION,
                env._("This connection has no invitation open: ask for a new code."),
            )
        key, name = next(
            (
                (key, name)
                for key, name in keys
                if wire.signature_matches(key, signature, *signed)
            ),
            (None, None),
        )
        if not key:
            raise wire.Refused(401, wire.ERROR_BAD_SIGNATURE, env._("Wrong signature."))
        signer.update(connection=connection, nonce=nonce, database=database, key=key)
        if env["k2k.request"]._k2k_nonce_seen(connection, nonce):
            raise wire.Refused(
                409,
                wire.ERROR_REPLAYED_REQUEST,
                env._("This request was received before."),
            )
        return name

    # -- handlers -----------------------------------------------------------

    def _k2k_handle_message(self, connection, envelope):
        self._k2k_check_told_position(connection, envelope)
        (result,) = connection.env["k2k.inbox"]._k2k_apply_batch(
            connection, [envelope], raise_errors=True
        )
        if isinstance(result, Exception):
            raise result
        return result

    def _k2k_handle_batch(self, connection, data):
        """Apply the envelopes of a batch in order, each in its own
        savepoint (``k2k.inbox._k2k_apply_batch``): a refused one takes its
        refusal as its outcome in the answer and the others are applied."""
        env = connection.env
        Inbox = env["k2k.inbox"]
        self._k2k_check_told_position(connection, data)
        results = Inbox._k2k_apply_batch(
            connection, wire.check_batch(data), raise_errors=True
        )
        outcomes = []
        for result in results:
            if isinstance(result, Exception):
                refusal = Inbox._k2k_as_refusal(result)
                outcomes.append(wire.refused_outcome(refusal.error, refusal.reason))
            else:
                outcomes.append(wire.public_outcome(result))
        refused = [
            f"{index}: {outcome['reason']}"
            for index, outcome in enumerate(outcomes, 1)
            if outcome["outcome"] == wire.OUTCOME_REFUSED
        ]
        detail = env._(
            "%(count)s messages, %(refused)s refused.",
            count=len(outcomes),
            refused=len(refused),
        )
        return {"outcomes": outcomes, "detail": "\n".join([detail, *refused])}

    def _k2k_check_told_position(self, connection, data):
        """Where the partner says both sides stand, first: a side that went
        back begins a new history before it numbers anything, and its
        answer tells the partner what to send again."""
        if isinstance(data, dict):
            connection._k2k_check_told_position(data.get("position"))

    def _k2k_handle_handshake(self, connection, data):
        if not connection._k2k_invitation_is_open():
            raise wire.Refused(
                410,
                wire.ERROR_INVITATION_EXPIRED,
                connection.env._(
                    "This invitation code has expired: ask for a new one."
                ),
            )
        return connection._k2k_accept_remote_handshake(data)
