# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The signed POST to a partner's K2K endpoint, and the checks of its answer.

No ORM here: the caller gives the address, the keys and the data, and gets
the partner's JSON answer or one exception type, ``K2KTransportError``, for
every way the partner can fail to give one (down, slow, not a K2K endpoint).
"""

import json
import time

import requests

from . import wire


class K2KTransportError(Exception):
    """No K2K answer to trust: the partner could not be reached (``kind``
    "unreachable") or gave something else than a K2K answer ("no_answer").
    A message that meets it stays queued and is tried again later."""

    def __init__(self, kind, url, status=None, detail=""):
        super().__init__(f"{kind}: {url}: {status or ''} {detail}".strip())
        self.kind = kind
        self.url = url
        self.status = status
        self.detail = detail


def post_signed(url, path, database, connection_uid, secret, data, timeout):
    """Sign ``data`` (JSON) and post it to ``url + path``; return
    ``(HTTP status, answer dict)``.

    A K2K refusal (a 4xx answer whose JSON says ``"ok": false``) is an
    answer, returned as such; anything else that is not a JSON object with
    a status below 400 raises ``K2KTransportError``.
    """
    body = json.dumps(data).encode()
    headers = wire.signed_headers(
        secret, database or "", connection_uid, body, time.time()
    )
    target = url.rstrip("/") + path
    try:
        response = requests.post(target, data=body, headers=headers, timeout=timeout)
    except requests.RequestException as error:
        raise K2KTransportError("unreachable", target, detail=str(error)) from error
    try:
        answer = response.json()
    except ValueError:
        answer = None
    refused = isinstance(answer, dict) and answer.get("ok") is False
    if (
        not isinstance(answer, dict)
        or response.status_code >= 500
        or (response.status_code >= 400 and not refused)
    ):
        detail = (
            answer.get("reason")
            if isinstance(answer, dict)
            else (response.text or "")[:200]
        )
        raise K2KTransportError(
            "no_answer", target, status=response.status_code, detail=detail
        )
    return response.status_code, answer
