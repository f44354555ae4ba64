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
from odoo.exceptions import UserError, ValidationError
from odoo.http import request

from .. import wire
from ..models.k2k_message import K2K_MESSAGE_VERSION

_logger = logging.getLogger(__name__)


class K2KRefused(Exception):
    def __init__(self, status, error, reason):
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason


class K2KController(http.Controller):
    @http.route(
        wire.MESSAGE_PATH,
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def k2k_message(self):
        return self._k2k_serve(self._k2k_handle_message)

    @http.route(
        wire.HANDSHAKE_PATH,
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def k2k_handshake(self):
        return self._k2k_serve(self._k2k_handle_handshake)

    # -- one path for both endpoints ---------------------------------------

    def _k2k_serve(self, handle):
        env = request.env(user=SUPERUSER_ID, su=True)
        log = {
            "endpoint": request.httprequest.path,
            "remote_addr": request.httprequest.remote_addr,
        }
        try:
            connection, data, nonce = self._k2k_authenticate(env, log)
            log.update(
                connection_id=connection.id,
                message_type=data.get("type"),
                document_uid=data.get("document_uid"),
            )
            try:
                # A refusal rolls back whatever the handler began.
                with env.cr.savepoint():
                    answer = handle(connection, data)
            except (UserError, ValidationError) as error:
                raise K2KRefused(422, "refused", error.args[0]) from error
            except (KeyError, TypeError, ValueError) as error:
                raise K2KRefused(
                    400,
                    "malformed_body",
                    env._("The message lacks or garbles %(what)s.", what=error),
                ) from error
        except K2KRefused as refusal:
            _logger.warning(
                "K2K request to %s from %s refused (%s): %s",
                log["endpoint"],
                log["remote_addr"],
                refusal.error,
                refusal.reason,
            )
            env["k2k.request"].create(
                dict(
                    log,
                    status_code=refusal.status,
                    error_code=refusal.error,
                    reason=refusal.reason,
                )
            )
            return request.make_json_response(
                {"ok": False, "error": refusal.error, "reason": refusal.reason},
                status=refusal.status,
            )
        env["k2k.request"].create(
            dict(
                log,
                status_code=200,
                accepted=True,
                nonce=nonce,
                reason=answer.get("detail"),
            )
        )
        answer = dict(answer, ok=True, status=connection._k2k_get_status())
        # Record ids of this database mean nothing to the partner.
        for key in ("buyer_move_id", "sale_order_id"):
            answer.pop(key, None)
        return request.make_json_response(answer)

    def _k2k_authenticate(self, env, log):
        """Return (connection, decoded body, nonce) or raise K2KRefused."""
        httprequest = request.httprequest
        max_bytes = env["k2k.request"]._k2k_max_body_bytes()
        length = httprequest.content_length
        if length is None:
            raise K2KRefused(411, "length_required", env._("Give a Content-Length."))
        if length > max_bytes:
            raise K2KRefused(
                413,
                "body_too_large",
                env._(
                    "The body has %(length)s bytes; at most %(max)s are taken.",
                    length=length,
                    max=max_bytes,
                ),
            )
        body = httprequest.get_data(cache=False)
        headers = httprequest.headers
        database = headers.get(wire.HEADER_DATABASE, "")
        uid = headers.get(wire.HEADER_CONNECTION, "")
        timestamp = headers.get(wire.HEADER_TIMESTAMP, "")
        nonce = headers.get(wire.HEADER_NONCE, "")
        signature = headers.get(wire.HEADER_SIGNATURE, "")
        if not (uid and timestamp and nonce and signature):
            raise K2KRefused(
                401,
                "unsigned",
                env._(
                    "The K2K connection, timestamp, nonce and signature headers "
                    "are required."
                ),
            )
        if database != env.cr.dbname:
            raise K2KRefused(
                421,
                "wrong_database",
                env._(
                    "This server answers for database %(here)s, not %(asked)s.",
                    here=env.cr.dbname,
                    asked=database,
                ),
            )
        connection = env["k2k.connection"].search(
            [("remote_uid", "=", uid), ("transport", "=", "http")], limit=1
        )
        if not connection:
            raise K2KRefused(404, "unknown_connection", env._("Unknown connection."))
        log["connection_id"] = connection.id
        try:
            skew = abs(time.time() - int(timestamp))
        except ValueError:
            skew = None
        if skew is None or skew > wire.MAX_CLOCK_SKEW:
            raise K2KRefused(
                401,
                "stale_request",
                env._(
                    "The request's time is not within %(seconds)s seconds of ours.",
                    seconds=wire.MAX_CLOCK_SKEW,
                ),
            )
        if not wire.signature_matches(
            connection.remote_secret, signature, database, uid, timestamp, nonce, body
        ):
            raise K2KRefused(401, "bad_signature", env._("Wrong signature."))
        if env["k2k.request"]._k2k_nonce_seen(connection, nonce):
            raise K2KRefused(
                409, "replayed_request", env._("This request was received before.")
            )
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise K2KRefused(
                400, "malformed_body", env._("The body is not a JSON object.")
            )
        return connection, data, nonce

    # -- handlers -----------------------------------------------------------

    def _k2k_handle_message(self, connection, envelope):
        env = connection.env
        expected = {
            "version": int,
            "type": str,
            "document_uid": str,
            "revision": int,
            "payload": dict,
            "attachments": list,
        }
        wrong = [
            key
            for key, kind in expected.items()
            if not isinstance(envelope.get(key), kind)
        ]
        if wrong:
            raise K2KRefused(
                400,
                "malformed_body",
                env._("Missing or wrong: %(keys)s.", keys=", ".join(wrong)),
            )
        if envelope["version"] > K2K_MESSAGE_VERSION:
            raise K2KRefused(
                400,
                "unsupported_version",
                env._(
                    "Message format %(version)s is newer than ours (%(ours)s).",
                    version=envelope["version"],
                    ours=K2K_MESSAGE_VERSION,
                ),
            )
        if envelope["type"] not in connection._k2k_get_receivable_types():
            raise K2KRefused(
                400,
                "wrong_direction",
                env._(
                    "A %(side)s does not receive %(type)s messages.",
                    side=connection.local_role,
                    type=envelope["type"],
                ),
            )
        if connection.state == "draft":
            raise K2KRefused(
                409,
                "connection_not_active",
                env._("The connection waits for its handshake."),
            )
        if connection.state == "suspended" and envelope["type"] != "status":
            raise K2KRefused(
                409, "connection_suspended", env._("The connection is suspended.")
            )
        local = connection._get_local_company()
        return connection.with_company(local)._k2k_receive(envelope)

    def _k2k_handle_handshake(self, connection, data):
        env = connection.env
        if not connection.invitation_code:
            raise K2KRefused(
                409, "no_invitation", env._("This connection invited nobody.")
            )
        return connection._k2k_accept_remote_handshake(data)
