# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A partner's server that is not Odoo, for the tests that need one to
behave well or badly on purpose. It imports nothing of Odoo, so that the
tests with real servers (``tests_integration``) use it too."""

import contextlib
import json
import time
from http.server import BaseHTTPRequestHandler

from .. import wire


class PartnerDouble(BaseHTTPRequestHandler):
    """What every partner double does: read a request's body, answer JSON
    (signed or not), stay quiet in the test's output."""

    def read_body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send_json(self, status, answer, headers=None):
        """Answer ``status`` with ``answer`` (JSON, or bytes as they are)
        and the extra ``headers``."""
        body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def signed_headers(self, key, body):
        """The headers that sign ``body`` as the answer (status 200) to the
        request this handler serves, with ``key``."""
        return wire.answer_headers(
            key,
            self.path,
            self.headers[wire.HEADER_DATABASE],
            self.headers[wire.HEADER_CONNECTION],
            self.headers[wire.HEADER_NONCE],
            200,
            body,
            time.time(),
        )

    def answer_signed(self, key, answer):
        """Answer 200 with the JSON ``answer``, signed with ``key`` as a
        partner signs its answers."""
        body = json.dumps(answer).encode()
        self.send_json(200, body, self.signed_headers(key, body))

    def answer_outcome(self, key, body, outcome, status=None):
        """Answer with ``outcome`` for the message of the request whose
        ``body`` was read, or for each message of its batch, signed with
        ``key``; with the partner's ``status`` when one is given."""
        if self.path == wire.BATCH_PATH:
            count = len(json.loads(body)["messages"])
            answer = {"ok": True, "outcomes": [outcome] * count}
        else:
            answer = dict(outcome, ok=True)
        if status is not None:
            answer["status"] = status
        self.answer_signed(key, answer)

    def trickle(self, length, interval, sent=None):
        """Promise ``length`` bytes and send them (or only ``sent`` of them)
        one every ``interval`` seconds, until the sender hangs up."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        with contextlib.suppress(OSError):
            for _byte in range(length if sent is None else sent):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(interval)

    def log_message(self, *args):
        pass
