# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The signed POST to a partner's K2K endpoint, and the checks of its answer.

No ORM here: the caller gives the address, the keys and the data, and gets
the partner's JSON answer or one exception type, ``K2KTransportError``, for
every way the partner can fail to give one (down, slow, not a K2K endpoint,
an answer too large, unsigned or signed with another key). Each exchange
has a deadline for the whole of it, not only for each read. Requests posted
in a series on a thread of their own (``post_signed_one_after_another``)
may also end as ``K2KNotPosted``: never sent.
"""

import base64
import contextlib
import http.client
import json
import os
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor

import certifi

from . import wire


class K2KTransportError(Exception):
    """No K2K answer to trust: the partner could not be reached (``kind``
    "unreachable") or gave something else than a K2K answer ("no_answer").
    A message that meets it stays queued and is tried again later."""

    def __init__(self, kind, url, status=None, detail=""):
        # The partner's words: cleaned and capped here, so that no caller
        # stores a NUL byte or a megabyte of text in its log.
        detail = wire.clean_text("" if detail is None else str(detail))
        super().__init__(f"{kind}: {url}: {status or ''} {detail}".strip())
        self.kind = kind
        self.url = url
        self.status = status
        self.detail = detail


class _Deadline:
    """The end of one exchange with a partner, whatever it does meanwhile:
    a socket timeout bounds each read, and a partner that sends a byte
    just before each one would keep a sender forever.

    The deadline opens the exchange's sockets itself
    (``create_connection``) and keeps a duplicate of each: at the deadline
    it shuts that down, which ends the connection under every descriptor of
    it (also once TLS has taken the socket over) and wakes any read or
    handshake blocked on it."""

    def __init__(self, seconds):
        self.expired = False
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._watched = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self):
        return max(self._end - time.monotonic(), 0.001)

    def _watch(self, sock):
        with self._lock:
            self._watched.append(sock.dup())
            if self.expired:
                self._shut(self._watched[-1])

    @staticmethod
    def _shut(sock):
        # Already closed by its peer: nothing left to wake.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def _expire(self):
        with self._lock:
            self.expired = True
            for sock in self._watched:
                self._shut(sock)

    def create_connection(self, address, timeout=None, source_address=None):
        """``socket.create_connection`` within the deadline: each address
        the name resolves to is tried with the time left, not each with a
        timeout of its own."""
        host, port = address
        error = TimeoutError("timed out")
        # The name lookup itself is the system resolver's, with its own
        # timeouts: it has no socket to shut down.
        addresses = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        for index, (family, kind, proto, _name, target) in enumerate(addresses):
            if self.expired:
                break
            sock = socket.socket(family, kind, proto)
            try:
                self._watch(sock)
                # A share of the time left for each address still to try:
                # one that never answers (a broken IPv6 route) leaves time
                # for the next.
                share = self.remaining() / (len(addresses) - index)
                sock.settimeout(min(timeout or self.seconds, share))
                if source_address:
                    sock.bind(source_address)
                sock.connect(target)
                sock.settimeout(timeout or self.seconds)
            except OSError as failed:
                error = failed
                sock.close()
            else:
                return sock
        raise error

    def cancel(self):
        with self._lock:
            self._timer.cancel()
            for sock in self._watched:
                sock.close()
            self._watched = []


class _HTTPConnection(http.client.HTTPConnection):
    """http.client's connection, its sockets opened by a ``_Deadline``."""

    def __init__(self, *args, deadline, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = deadline.create_connection


class _HTTPSConnection(http.client.HTTPSConnection):
    """http.client's TLS connection, its sockets opened by a ``_Deadline``."""

    def __init__(self, *args, deadline, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = deadline.create_connection


_tls_contexts = {}


def _tls_context():
    """The certificates a partner's is checked against: the bundle the
    environment names (``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE``, as
    ``requests`` reads them, or ``SSL_CERT_FILE``: a company's own
    authority, a proxy that inspects TLS), else certifi's. Made once per
    bundle: loading one takes longer than a short exchange."""
    cafile = (
        os.environ.get("REQUESTS_CA_BUNDLE")
        or os.environ.get("CURL_CA_BUNDLE")
        or os.environ.get("SSL_CERT_FILE")
        or certifi.where()
    )
    if cafile not in _tls_contexts:
        if os.path.isdir(cafile):
            context = ssl.create_default_context(capath=cafile)
        else:
            context = ssl.create_default_context(cafile=cafile)
        _tls_contexts[cafile] = context
    return _tls_contexts[cafile]


def _open(target, deadline):
    """An HTTP(S) connection to ``target`` (not opened yet) within
    ``deadline``, through the proxy the environment names for its scheme
    (``https_proxy``, ``no_proxy``), if any; and the path to post to."""
    parts = urllib.parse.urlsplit(target)
    https = parts.scheme == "https"
    host, port = parts.hostname, parts.port or (443 if https else 80)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and urllib.request.proxy_bypass(host):
        proxy = None
    tunnel_headers = {}
    if proxy:
        if "://" not in proxy:
            proxy = f"http://{proxy}"
        proxy = urllib.parse.urlsplit(proxy)
        address = (proxy.hostname, proxy.port or 8080)
        if proxy.username:
            credentials = urllib.parse.unquote(
                f"{proxy.username}:{proxy.password or ''}"
            )
            tunnel_headers["Proxy-Authorization"] = (
                "Basic " + base64.b64encode(credentials.encode()).decode()
            )
    else:
        address = (host, port)
    timeout = deadline.seconds
    if https:
        connection = _HTTPSConnection(
            *address, timeout=timeout, context=_tls_context(), deadline=deadline
        )
    else:
        connection = _HTTPConnection(*address, timeout=timeout, deadline=deadline)
    if proxy:
        # CONNECT names the partner as its certificate does: an IPv6
        # address in brackets, a name in its ASCII (IDNA) form.
        tunnel_host = f"[{host}]" if ":" in host else host.encode("idna").decode()
        connection.set_tunnel(tunnel_host, port, headers=tunnel_headers)
    return connection, parts.path or "/"


def _post(target, body, headers, timeout):
    """POST without following redirects; return the status, the headers
    and at most ``wire.MAX_ANSWER_BYTES`` of the body of the answer, all
    within ``timeout`` seconds from the start, or raise
    ``K2KTransportError``."""
    deadline = _Deadline(timeout)
    connection = response = None
    try:
        connection, path = _open(target, deadline)
        headers = {"User-Agent": f"Odoo-K2K/{wire.PROTOCOL_VERSION}", **headers}
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        content = b""
        while chunk := response.read(65536):
            content += chunk
            if len(content) > wire.MAX_ANSWER_BYTES:
                raise K2KTransportError(
                    "no_answer", target, response.status, "the answer is too large"
                )
        if deadline.expired:
            raise TimeoutError("the answer was cut off")
        return response.status, response.headers, content
    except K2KTransportError:
        raise
    except Exception as error:
        # Whatever went wrong on the way (a name that does not resolve or
        # encode, a proxy setting, a broken answer): no K2K answer, and the
        # message waits for a later attempt.
        detail = str(error) or type(error).__name__
        if deadline.expired:
            detail = f"timed out: no complete answer within {timeout:g} s"
        raise K2KTransportError("unreachable", target, detail=detail) from error
    finally:
        deadline.cancel()
        if response is not None:
            response.close()
        if connection is not None:
            connection.close()


def post_signed(  # noqa: PLR0913 - the arguments a thread needs, no ORM
    url, path, database, connection_uid, secret, data, timeout, allow_http=False
):
    """Sign ``data`` (JSON) and post it to ``url + path``; return
    ``(HTTP status, answer dict)``, every text of the answer cleaned and
    capped (``wire.clean_received``). Plain http only when ``allow_http``
    (see ``wire.check_partner_url``).

    Redirects are not followed (the signed body goes to the address given,
    or nowhere). A K2K refusal (a 4xx answer whose JSON says ``"ok":
    false``) is an answer, returned as such; anything else that is not a
    signed JSON object with a status below 400 raises ``K2KTransportError``.
    """
    if not wire.check_partner_url(url, allow_http):
        raise K2KTransportError("unreachable", url, detail="not an https address")
    body = json.dumps(data, allow_nan=False).encode()
    database = database or ""
    headers = wire.signed_headers(
        secret, path, database, connection_uid, body, time.time()
    )
    target = url.rstrip("/") + path
    status, answer_headers, content = _post(target, body, headers, timeout)
    signed = (secret, path, database, connection_uid, headers[wire.HEADER_NONCE])
    try:
        return status, _read_answer(target, signed, status, answer_headers, content)
    except K2KTransportError:
        raise
    except Exception as error:
        # Whatever the partner's server sent, it is not a K2K answer.
        detail = str(error) or type(error).__name__
        raise K2KTransportError("no_answer", target, status, detail) from error


def _read_answer(target, signed, status, headers, content):
    """The partner's answer, checked: a JSON object signed for the request
    (``signed``: its secret, path, database, connection and nonce), with a
    status below 400 unless it is a K2K refusal."""
    try:
        answer = wire.clean_received(wire.loads(content))
    except (ValueError, RecursionError):
        answer = None
    refused = isinstance(answer, dict) and answer.get("ok") is False
    if not isinstance(answer, dict) or status >= 500 or (status >= 400 and not refused):
        detail = (
            answer.get("reason")
            if isinstance(answer, dict)
            else content[:200].decode(errors="replace")
        )
        raise K2KTransportError("no_answer", target, status=status, detail=detail)
    secret, path, database, connection_uid, nonce = signed
    if not wire.answer_matches(
        secret,
        headers,
        path,
        database,
        connection_uid,
        nonce,
        status,
        content,
        time.time(),
    ):
        raise K2KTransportError(
            "no_answer", target, status=status, detail="the answer is not signed"
        )
    return answer


class K2KNotPosted(Exception):
    """A request of a series that was not posted: an earlier one of its key
    (its partner) raised or was answered in a way that ends the series, or
    the caller cancelled it."""


_executor = None
_executor_lock = threading.Lock()


def _get_executor():
    global _executor  # noqa: PLW0603 - one pool per process, made when first needed
    with _executor_lock:
        if _executor is None:
            # Each sender (a cron thread, a queue_job job, "Send Now") has
            # one series in flight at a time, and re-sends what the series
            # left, on a second thread: room for a few senders per process.
            _executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="k2k-http")
    return _executor


def _ends_on_error_status(_index, status, _answer):
    return status >= 400


def post_signed_one_after_another(calls, keys=None, ends_series=None):
    """Post each of ``calls`` (each the arguments of ``post_signed``) in
    turn, on one thread that touches no database, each once the one before
    it is answered; return a ``concurrent.futures.Future`` per call, at once.

    A call that raises, or whose answer ``ends_series(index of the call,
    status, answer)`` says so (by default: a status of 400 or more), ends
    the series for the later calls of its key (``keys``, one per call: its
    partner; by default all share one): their futures raise
    ``K2KNotPosted``, and the caller decides what becomes of them. A future
    the caller cancels before its turn is not posted either. Every future
    is resolved, whatever happens on the thread. The thread needs nothing
    but ``calls``: the caller's cursor stays with the caller."""
    if not calls:
        return []
    futures = [Future() for _call in calls]
    keys = [None] * len(calls) if keys is None else list(keys)
    ends_series = ends_series or _ends_on_error_status

    def post_in_turn():
        ended = set()
        try:
            for index, (future, args, key) in enumerate(
                zip(futures, calls, keys, strict=True)
            ):
                if not future.set_running_or_notify_cancel():
                    ended.add(key)  # the caller gave up on it, and on the rest
                elif key in ended:
                    future.set_exception(K2KNotPosted())
                else:
                    try:
                        status, answer = post_signed(*args)
                    except Exception as error:  # noqa: BLE001 - for the caller
                        future.set_exception(error)
                        ended.add(key)
                    else:
                        future.set_result((status, answer))
                        if ends_series(index, status, answer):
                            ended.add(key)
        finally:
            for future in futures:
                if not future.done():
                    future.set_exception(K2KNotPosted())

    _get_executor().submit(post_in_turn)
    return futures


def post_signed_in_background(*args):
    """``post_signed(*args)`` on a thread of its own; return its
    ``concurrent.futures.Future`` (see ``post_signed_one_after_another``)."""
    return post_signed_one_after_another([args])[0]
