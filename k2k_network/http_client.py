# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The signed POST to a partner's K2K endpoint, and the checks of its answer.

No ORM here: the caller gives the address, the keys and the data, and gets
the partner's JSON answer or one exception type, ``K2KTransportError``, for
every way the partner can fail to give one (down, slow, not a K2K endpoint,
an answer too large, unsigned or signed with another key).
"""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

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


def _read_capped(response, target):
    body = b""
    for chunk in response.iter_content(chunk_size=65536):
        body += chunk
        if len(body) > wire.MAX_ANSWER_BYTES:
            raise K2KTransportError(
                "no_answer", target, response.status_code, "the answer is too large"
            )
    return body


def _post(target, body, headers, timeout):
    """POST without following redirects; return the response and at most
    ``wire.MAX_ANSWER_BYTES`` of its body."""
    try:
        with requests.post(
            target,
            data=body,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        ) as response:
            return response, _read_capped(response, target)
    except requests.RequestException as error:
        raise K2KTransportError("unreachable", target, detail=str(error)) from error


def post_signed(url, path, database, connection_uid, secret, data, timeout):
    """Sign ``data`` (JSON) and post it to ``url + path``; return
    ``(HTTP status, answer dict)``.

    Redirects are not followed (the signed body goes to the address given,
    or nowhere). A K2K refusal (a 4xx answer whose JSON says ``"ok":
    false``) is an answer, returned as such; anything else that is not a
    signed JSON object with a status below 400 raises ``K2KTransportError``.
    """
    if not wire.check_partner_url(url):
        raise K2KTransportError("unreachable", url, detail="not an https address")
    body = json.dumps(data, allow_nan=False).encode()
    database = database or ""
    headers = wire.signed_headers(
        secret, path, database, connection_uid, body, time.time()
    )
    target = url.rstrip("/") + path
    response, content = _post(target, body, headers, timeout)
    try:
        answer = wire.loads(content)
    except ValueError:
        answer = None
    refused = isinstance(answer, dict) and answer.get("ok") is False
    status = response.status_code
    if not isinstance(answer, dict) or status >= 500 or (status >= 400 and not refused):
        detail = (
            answer.get("reason")
            if isinstance(answer, dict)
            else content[:200].decode(errors="replace")
        )
        raise K2KTransportError("no_answer", target, status=status, detail=detail)
    if not wire.answer_matches(
        secret,
        response.headers,
        path,
        database,
        connection_uid,
        headers[wire.HEADER_NONCE],
        status,
        content,
        time.time(),
    ):
        raise K2KTransportError(
            "no_answer", target, status=status, detail="the answer is not signed"
        )
    return status, answer


_executor = None
_executor_lock = threading.Lock()


def post_signed_in_background(*args):
    """``post_signed(*args)`` on a thread of its own; return its
    ``concurrent.futures.Future``. The thread only signs, posts and checks
    the answer: everything it needs is in ``args``, so that the caller's
    cursor stays with the caller."""
    global _executor  # noqa: PLW0603 - one pool per process, made when first needed
    with _executor_lock:
        if _executor is None:
            # A few threads per Odoo process: each sender has at most one
            # request in flight, and a process runs a few senders (cron
            # threads, "Send Now").
            _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="k2k-http")
    return _executor.submit(post_signed, *args)
