# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The K2K protocol, and nothing else: what travels between the two sides of
a connection, which side receives it, and how a request is signed.

Both ends (and both transports) use this module, so that the sender and the
receiver can never disagree about a message type, a header name or which
bytes are signed. It imports nothing of Odoo, so that it can be read, tested
and reused on its own.
"""

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import urllib.parse
import uuid

from . import wire_values
from .wire_values import EnvelopeError

# Version of the envelope, carried by every message so that a partner running
# another version of the addon can tell what it receives. 2: documents and
# lines named by references, signatures over method and path, signed answers.
PROTOCOL_VERSION = 2

# Paths of the endpoints, versioned so that a later format can live beside.
MESSAGE_PATH = "/k2k/v1/message"
HANDSHAKE_PATH = "/k2k/v1/handshake"
# Several messages in one request: {"messages": [envelope, ...]}, answered
# {"ok": true, "outcomes": [one per envelope, in order], "status": ...}.
BATCH_PATH = "/k2k/v1/messages"
# The most envelopes one batch may hold; a larger batch is refused whole.
MAX_BATCH = 20

HEADER_DATABASE = "X-K2K-Database"
HEADER_CONNECTION = "X-K2K-Connection"
HEADER_TIMESTAMP = "X-K2K-Timestamp"
HEADER_NONCE = "X-K2K-Nonce"
HEADER_SIGNATURE = "X-K2K-Signature"

# A request older or newer than this (seconds) is refused as stale; its nonce
# only needs to be remembered for that long.
MAX_CLOCK_SKEW = 300
# The most a sender reads of an answer.
MAX_ANSWER_BYTES = 1024 * 1024

INVITATION_PREFIX = "K2K1."

VENDOR = "vendor"
BUYER = "buyer"
ANY_SIDE = "any"

# Message type -> the side that receives it (in the order the synchronization
# log lists them).
MESSAGE_TYPES = {
    "order": VENDOR,
    "order_cancel": VENDOR,
    "invoice": BUYER,
    "invoice_cancel": BUYER,
    # The vendor's answer to a K2K order: confirmed, changed or cancelled.
    "order_answer": BUYER,
    # What became of an invoice at the buyer: approved, booked, paid, disputed.
    "bill_status": VENDOR,
    # What the vendor shipped of a K2K order (each line's total so far).
    "shipment": BUYER,
    # What the buyer returned of a K2K order (each line's total so far).
    "return": VENDOR,
    "status": ANY_SIDE,
    # A side's new key for the requests it receives (see k2k.document.keys).
    "keys": ANY_SIDE,
}
# A cancellation closes the document its base type opened: it travels under
# the same document identifier and revision instead of a new revision.
CANCEL_TYPES = {"order_cancel": "order", "invoice_cancel": "invoice"}
# Names earlier versions of the protocol used for a type.
TYPE_ALIASES = {"cancel": "invoice_cancel"}

# The words of the lifecycle messages (their value rules are in wire_values).
ORDER_ANSWER_STATES = wire_values.ORDER_ANSWER_STATES
BILL_STATUSES = wire_values.BILL_STATUSES
DISPUTE_REASONS = wire_values.DISPUTE_REASONS

# What a receiver answers. "failed" is never answered: a refusal is an error.
OUTCOME_APPLIED = "applied"
OUTCOME_DELIVERED = "delivered"
OUTCOME_WAITING = "waiting"
OUTCOME_SUPERSEDED = "superseded"
OUTCOMES = (OUTCOME_APPLIED, OUTCOME_DELIVERED, OUTCOME_WAITING, OUTCOME_SUPERSEDED)
# Only inside a batch's answer: the receiver refused that one envelope (with
# an "error" code and a "reason", as a refused request would) and applied
# the others.
OUTCOME_REFUSED = "refused"
# Keys of an outcome that may cross to the partner: words, never record ids.
# "key": the answering side's key, in the answer to a handshake or a key change.
# "receipt": the number the receiver gave the envelope it applied (see below).
OUTCOME_KEYS = ("outcome", "detail", "reference", "accepted_by", "key", "receipt")

# Where the two sides stand with each other, so that a side restored from a
# backup is noticed and healed. The receiving side numbers each envelope it
# applies or holds through a connection (its "receipt", 1, 2, ...), keeps
# each with its document (a restore takes them back), and tells its
# "position" in the status of every answer (and of every refusal of a
# request whose signature it verified) and in every request (the
# "position" key of a request's body): the highest receipt it holds
# ("receipts"), its "history" for this connection (a random name) and the
# receipts it held when that history began ("since"), and the highest
# receipt it recorded of the partner ("seen") in the partner's history it
# knows ("seen_in"), and what it had recorded when its history began
# ("since_seen"). A side told that the partner saw more than it holds went
# back to a backup: it begins a new history. A sender that sees the
# partner's history change, or its receipts go below what it recorded, sends
# again what the partner lost, and takes the partner's next revisions of
# what it sent after its backup as newer. A history heard first in a request
# is asked at the sender's address before anything of that request is
# applied: a copy of a database running elsewhere names one the address does
# not, and is refused from then on.
POSITION_KEYS = ("history", "receipts", "since", "seen", "seen_in", "since_seen")
MAX_RECEIPT = wire_values.MAX_RECEIPT

# Every refusal's code: the "error" of a refused request (or of one
# envelope of a batch), for machines; its "reason" is for people.
# The request itself:
ERROR_UNSIGNED = "unsigned"  # without the K2K headers
ERROR_LENGTH_REQUIRED = "length_required"
ERROR_BODY_TOO_LARGE = "body_too_large"
ERROR_WRONG_DATABASE = "wrong_database"  # not a database this server answers for
ERROR_STALE_REQUEST = "stale_request"  # timestamp outside MAX_CLOCK_SKEW
ERROR_REPLAYED_REQUEST = "replayed_request"  # its nonce was seen
ERROR_NO_INVITATION = "no_invitation"
ERROR_INVITATION_EXPIRED = "invitation_expired"
# What it carries:
ERROR_MALFORMED_BODY = wire_values.ERROR_MALFORMED_BODY
ERROR_INVALID_VALUE = wire_values.ERROR_INVALID_VALUE
ERROR_UNSUPPORTED_VERSION = "unsupported_version"
ERROR_WRONG_DIRECTION = "wrong_direction"  # a type the other side receives
ERROR_BATCH_TOO_LARGE = "batch_too_large"
# The receiver's business refused it (the reason says why).
ERROR_REFUSED = "refused"
# A receiver that cannot take this much at once: the sender sends the same
# messages one by one.
TOO_LARGE_ERRORS = (ERROR_BODY_TOO_LARGE, ERROR_BATCH_TOO_LARGE)
# Refusals a sender treats as "not now" rather than "no".
ERROR_NOT_ACTIVE = "connection_not_active"
ERROR_SUSPENDED = "connection_suspended"
NOT_NOW_ERRORS = (ERROR_NOT_ACTIVE, ERROR_SUSPENDED)
# Refusals a sender tries again later, as if the partner were down: the
# partner has not committed its side of the handshake yet, or a key change
# is crossing the wire.
ERROR_UNKNOWN_CONNECTION = "unknown_connection"
ERROR_BAD_SIGNATURE = "bad_signature"
# A request naming a history of the sender that the receiver has not heard
# from the sender's address yet (a restore, or a copy running elsewhere): the
# receiver asks the sender's address first.
ERROR_HISTORY_UNCONFIRMED = "history_unconfirmed"
RETRY_ERRORS = (
    ERROR_UNKNOWN_CONNECTION,
    ERROR_BAD_SIGNATURE,
    ERROR_HISTORY_UNCONFIRMED,
)
# A request from a copy of the sender's database, running beside the one at
# the sender's address: refused for good.
ERROR_COPIED_DATABASE = "copied_database"
# A key change signed with the key the receiver is replacing (both sides
# changed keys at once, or someone holds the old key): refused for good, and
# the sender's change is undone; the receiver's own change goes on.
ERROR_KEY_CHANGE_CROSSING = "key_change_crossing"
# All of them: a receiver answers no other code.
ERRORS = (
    ERROR_UNSIGNED,
    ERROR_LENGTH_REQUIRED,
    ERROR_BODY_TOO_LARGE,
    ERROR_WRONG_DATABASE,
    ERROR_STALE_REQUEST,
    ERROR_REPLAYED_REQUEST,
    ERROR_NO_INVITATION,
    ERROR_INVITATION_EXPIRED,
    ERROR_MALFORMED_BODY,
    ERROR_INVALID_VALUE,
    ERROR_UNSUPPORTED_VERSION,
    ERROR_WRONG_DIRECTION,
    ERROR_BATCH_TOO_LARGE,
    ERROR_REFUSED,
    ERROR_NOT_ACTIVE,
    ERROR_SUSPENDED,
    ERROR_UNKNOWN_CONNECTION,
    ERROR_BAD_SIGNATURE,
    ERROR_KEY_CHANGE_CROSSING,
    ERROR_HISTORY_UNCONFIRMED,
    ERROR_COPIED_DATABASE,
)

# The automation switches a side tells the other, by the name they travel by.
AUTOMATION_KEYS = (
    "invoice_sync_enabled",
    "invoice_upload_enabled",
    "split_ecommerce_po_enabled",
)

ENVELOPE_KEYS = {
    "version": int,
    "type": str,
    "document_uid": str,
    "revision": int,
    "payload": dict,
    "attachments": list,
}


class Refused(Exception):
    """A receiver's refusal of a request, or of one envelope of a batch:
    the HTTP status it is answered with, its code (one of ``ERRORS``) and
    a reason for a person."""

    def __init__(self, status, error, reason):
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason


def other_side(side):
    return BUYER if side == VENDOR else VENDOR


def receiving_side(message_type):
    return MESSAGE_TYPES.get(TYPE_ALIASES.get(message_type, message_type))


def is_cancellation(message_type):
    return message_type in CANCEL_TYPES


def type_family(message_type):
    """The types that travel under one document identifier: a base type
    and its cancellation (a status and a key change are each their own)."""
    base = CANCEL_TYPES.get(message_type, message_type)
    return (base, *(cancel for cancel, of in CANCEL_TYPES.items() if of == base))


def new_uid():
    """Names a document (or a line) inside one connection: random, so that it
    means nothing outside it and cannot be guessed."""
    return uuid.uuid4().hex


def new_secret():
    """A signing key: 256 random bits."""
    return secrets.token_urlsafe(32)


def derive_key(secret, *parts):
    """A key made from ``secret`` and ``parts``: the same each time, so that
    a side that must send a key again (a handshake whose answer was lost)
    sends the same one, and nobody without ``secret`` can make it."""
    message = "\n".join(("k2k-key", *parts)).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def is_key(value):
    """Whether ``value`` can be a signing key a partner gives us."""
    return wire_values.is_key(value)


def new_nonce():
    return secrets.token_hex(16)


def build_envelope(message_type, document_uid, revision, payload, attachments=()):
    return {
        "version": PROTOCOL_VERSION,
        "type": message_type,
        "document_uid": document_uid,
        "revision": revision,
        "payload": payload or {},
        "attachments": list(attachments),
    }


def check_envelope(envelope, receiver_side):
    """Return the envelope with its type in today's name, or raise
    ``EnvelopeError`` when it is malformed, too new, or not for a
    ``receiver_side`` ("vendor" or "buyer"; ``None``: a receiver that holds
    both sides) to receive."""
    if not isinstance(envelope, dict):
        raise EnvelopeError(ERROR_MALFORMED_BODY, "The body is not a JSON object.")
    wrong = [
        key
        for key, kind in ENVELOPE_KEYS.items()
        if not isinstance(envelope.get(key), kind) or isinstance(envelope[key], bool)
    ]
    if wrong:
        raise EnvelopeError(
            ERROR_MALFORMED_BODY, "Missing or wrong: {}.".format(", ".join(wrong))
        )
    if envelope["version"] != PROTOCOL_VERSION:
        raise EnvelopeError(
            ERROR_UNSUPPORTED_VERSION,
            f"Message format {envelope['version']} is not ours "
            f"({PROTOCOL_VERSION}): both sides need the same version of k2k_network.",
        )
    side = receiving_side(envelope["type"])
    receives = side if receiver_side is None else receiver_side
    if side is None or side not in (receives, ANY_SIDE):
        raise EnvelopeError(
            ERROR_WRONG_DIRECTION,
            f"A {receiver_side or 'receiver'} does not receive {envelope['type']} "
            "messages.",
        )
    message_type = TYPE_ALIASES.get(envelope["type"], envelope["type"])
    return dict(envelope, type=message_type)


def check_payload(envelope):
    """Raise ``EnvelopeError`` unless every value the receiver reads has the
    type and range it expects, and every attachment is a PDF."""
    wire_values.check_payload(envelope)


def _refuse_constant(name):
    raise ValueError(f"{name} is not a number K2K takes")


def loads(data):
    """JSON as K2K reads it: NaN and Infinity are refused."""
    return json.loads(data, parse_constant=_refuse_constant)


def public_outcome(outcome):
    """What of a receiver's outcome crosses back to the sender."""
    return {key: outcome[key] for key in OUTCOME_KEYS if key in outcome}


def build_position(history, receipts, since=0, seen=0, seen_in=None, since_seen=None):
    position = {"history": history, "receipts": receipts, "since": since}
    if seen_in:
        position.update(seen=seen, seen_in=seen_in)
        if since_seen is not None:
            position["since_seen"] = since_seen
    return position


def read_position(value):
    """The position a partner told (see ``POSITION_KEYS``), or ``None``
    when ``value`` is none (an older partner) or not one."""
    return value if wire_values.is_position(value) else None


def read_receipt(outcome):
    """The receipt number of an outcome, or ``None``."""
    receipt = outcome.get("receipt") if isinstance(outcome, dict) else None
    return receipt if wire_values.is_receipt(receipt) else None


def refused_outcome(error, reason):
    """The outcome, in a batch's answer, of an envelope the receiver refused."""
    return {"outcome": OUTCOME_REFUSED, "error": str(error), "reason": str(reason)}


def check_batch(data):
    """Return the envelopes of a batch request, or raise ``EnvelopeError``
    when it is not one or holds more than ``MAX_BATCH``."""
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, list) or not messages:
        raise EnvelopeError(ERROR_MALFORMED_BODY, "A batch is a list of messages.")
    if len(messages) > MAX_BATCH:
        raise EnvelopeError(
            ERROR_BATCH_TOO_LARGE,
            f"A batch holds at most {MAX_BATCH} messages, not {len(messages)}.",
        )
    return messages


def _public_batch_outcome(outcome):
    if not isinstance(outcome, dict):
        return None
    if outcome.get("outcome") == OUTCOME_REFUSED:
        return refused_outcome(outcome.get("error"), outcome.get("reason"))
    if outcome.get("outcome") in OUTCOMES:
        return public_outcome(outcome)
    return None


def batch_outcomes(answer, count):
    """The outcomes of a batch's answer, one per envelope sent, or ``None``
    when the answer does not give exactly that."""
    outcomes = answer.get("outcomes") if isinstance(answer, dict) else None
    if not isinstance(outcomes, list) or len(outcomes) != count:
        return None
    public = [_public_batch_outcome(outcome) for outcome in outcomes]
    return None if None in public else public


def signed_bytes(method, path, database, connection_uid, timestamp, nonce, body):
    """The bytes a signature covers: the method and path, the routing
    headers and the body, so that none of them can be changed, nor the
    request moved to another endpoint or connection."""
    head = "\n".join(
        (method.upper(), path, database, connection_uid, timestamp, nonce, "")
    )
    return head.encode() + body


def sign(secret, method, path, database, connection_uid, timestamp, nonce, body):
    return hmac.new(
        secret.encode(),
        signed_bytes(method, path, database, connection_uid, timestamp, nonce, body),
        hashlib.sha256,
    ).hexdigest()


def _same(expected, given):
    """A constant-time comparison of a signature with what a header gave,
    whatever characters it holds (``compare_digest`` takes ASCII text
    only)."""
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def signature_matches(secret, signature, *signed):
    """Whether ``signature`` is ``sign(secret, *signed)``."""
    return _same(sign(secret, *signed), signature)


def is_fresh(timestamp, now):
    try:
        return abs(now - int(timestamp)) <= MAX_CLOCK_SKEW
    except (TypeError, ValueError):
        return False


def signed_headers(secret, path, database, connection_uid, body, timestamp, nonce=None):
    """The headers of a signed POST of ``body`` to ``path``."""
    nonce = nonce or new_nonce()
    timestamp = str(int(timestamp))
    return {
        "Content-Type": "application/json",
        HEADER_DATABASE: database,
        HEADER_CONNECTION: connection_uid,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: sign(
            secret, "POST", path, database, connection_uid, timestamp, nonce, body
        ),
    }


def _answer_method(status):
    # An answer is signed as its own kind of message, bound to the request's
    # nonce and to its HTTP status: neither a request's signature nor an
    # older answer can pass for it.
    return f"ANSWER {int(status)}"


def _answer_signature(secret, path, database, connection_uid, nonce, status, body, ts):
    return sign(
        secret, _answer_method(status), path, database, connection_uid, ts, nonce, body
    )


def answer_headers(secret, path, database, connection_uid, nonce, status, body, now):
    timestamp = str(int(now))
    signature = _answer_signature(
        secret, path, database, connection_uid, nonce, status, body, timestamp
    )
    return {HEADER_TIMESTAMP: timestamp, HEADER_SIGNATURE: signature}


def answer_matches(
    secret, headers, path, database, connection_uid, nonce, status, body, now
):
    """Whether an answer comes, fresh, from the holder of ``secret`` for the
    request signed with ``nonce``."""
    timestamp = headers.get(HEADER_TIMESTAMP, "")
    expected = _answer_signature(
        secret, path, database, connection_uid, nonce, status, body, timestamp
    )
    return is_fresh(timestamp, now) and _same(
        expected, headers.get(HEADER_SIGNATURE, "")
    )


def check_partner_url(url, allow_http=False):
    """Whether ``url`` may be a partner's address: https to a host, with
    no credentials, path (but "/"), query or fragment, so that a signed
    body can only go to a partner's K2K endpoint. Plain http to this
    machine only where ``allow_http`` says so (tests, a development
    server): the caller reads it from an explicit setting."""
    if not isinstance(url, str) or not wire_values.is_clean(url):
        return False
    try:
        parsed = urllib.parse.urlsplit(url)
        port = parsed.port  # raises on a port that is not a number
    except ValueError:
        return False
    if port == 0 or not parsed.hostname or parsed.username or parsed.password:
        return False
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        return False
    if "#" in url or "?" in url:
        return False
    try:
        parsed.hostname.encode("idna")  # a name a resolver can be asked
    except UnicodeError:
        return False
    if parsed.scheme == "https":
        return True
    if parsed.scheme != "http" or not allow_http:
        return False
    if parsed.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parsed.hostname).is_loopback
    except ValueError:
        return False


def clean_text(value, limit=wire_values.MAX_TEXT):
    """A partner's text (a reason, a name, a reference, an address), fit to
    store and to show: see ``wire_values.clean_text``."""
    return wire_values.clean_text(value, limit)


def clean_received(data):
    """A partner's decoded answer with every text in it cleaned and capped:
    what an answer brings enters our records through this only."""
    return wire_values.clean_received(data)


def encode_invitation(data):
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return INVITATION_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_invitation(code):
    """The content of an invitation code, or ``None`` when it is not one."""
    code = (code or "").strip()
    if not code.startswith(INVITATION_PREFIX):
        return None
    raw = code[len(INVITATION_PREFIX) :]
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except ValueError:
        return None
    keys = {"url", "database", "uid", "secret", "role", "company", "expires"}
    if not isinstance(data, dict) or not keys.issubset(data):
        return None
    if not isinstance(data["expires"], int) or not is_key(data["secret"]):
        return None
    # Texts the code carries into our records: clean ones only.
    texts = [data[key] for key in ("url", "database", "uid", "role", "company")]
    if not all(
        isinstance(text, str) and 0 < len(text) <= 256 and wire_values.is_clean(text)
        for text in texts
    ):
        return None
    return data
