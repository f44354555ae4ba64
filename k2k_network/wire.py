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
import json
import secrets
import uuid

# Version of the envelope, carried by every message so that a partner running
# another version of the addon can tell what it receives.
PROTOCOL_VERSION = 1

# Paths of the endpoints, versioned so that a later format can live beside.
MESSAGE_PATH = "/k2k/v1/message"
HANDSHAKE_PATH = "/k2k/v1/handshake"

HEADER_DATABASE = "X-K2K-Database"
HEADER_CONNECTION = "X-K2K-Connection"
HEADER_TIMESTAMP = "X-K2K-Timestamp"
HEADER_NONCE = "X-K2K-Nonce"
HEADER_SIGNATURE = "X-K2K-Signature"

# A request older or newer than this (seconds) is refused as stale; its nonce
# only needs to be remembered for that long.
MAX_CLOCK_SKEW = 300

INVITATION_PREFIX = "K2K1."

VENDOR = "vendor"
BUYER = "buyer"
ANY_SIDE = "any"

# Message type -> the side that receives it.
MESSAGE_TYPES = {
    "order": VENDOR,
    "order_cancel": VENDOR,
    "invoice": BUYER,
    "invoice_cancel": BUYER,
    "status": ANY_SIDE,
}
# A cancellation closes the document its base type opened: it travels under
# the same document identifier and revision instead of a new revision.
CANCEL_TYPES = {"order_cancel": "order", "invoice_cancel": "invoice"}
# Names earlier versions of the protocol used for a type.
TYPE_ALIASES = {"cancel": "invoice_cancel"}

# What a receiver answers. "failed" is never answered: a refusal is an error.
OUTCOME_APPLIED = "applied"
OUTCOME_DELIVERED = "delivered"
OUTCOME_WAITING = "waiting"
OUTCOME_SUPERSEDED = "superseded"
OUTCOMES = (OUTCOME_APPLIED, OUTCOME_DELIVERED, OUTCOME_WAITING, OUTCOME_SUPERSEDED)
# Keys of an outcome that may cross to the partner: words, never record ids.
OUTCOME_KEYS = ("outcome", "detail", "reference")

ENVELOPE_KEYS = {
    "version": int,
    "type": str,
    "document_uid": str,
    "revision": int,
    "payload": dict,
    "attachments": list,
}


class EnvelopeError(ValueError):
    """An envelope the receiver cannot take: ``code`` names the reason for
    machines, the message for people."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def other_side(side):
    return BUYER if side == VENDOR else VENDOR


def receiving_side(message_type):
    return MESSAGE_TYPES.get(TYPE_ALIASES.get(message_type, message_type))


def is_cancellation(message_type):
    return message_type in CANCEL_TYPES


def new_document_uid():
    """Names a document inside one connection: random, so that it means
    nothing outside it and cannot be guessed."""
    return uuid.uuid4().hex


def new_secret():
    return secrets.token_urlsafe(32)


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
    ``receiver_side`` ("vendor" or "buyer") to receive."""
    if not isinstance(envelope, dict):
        raise EnvelopeError("malformed_body", "The body is not a JSON object.")
    wrong = [
        key
        for key, kind in ENVELOPE_KEYS.items()
        if not isinstance(envelope.get(key), kind) or isinstance(envelope[key], bool)
    ]
    if wrong:
        raise EnvelopeError(
            "malformed_body", "Missing or wrong: {}.".format(", ".join(wrong))
        )
    if envelope["version"] > PROTOCOL_VERSION:
        raise EnvelopeError(
            "unsupported_version",
            f"Message format {envelope['version']} is newer than ours "
            f"({PROTOCOL_VERSION}).",
        )
    side = receiving_side(envelope["type"])
    if side is None or side not in (receiver_side, ANY_SIDE):
        raise EnvelopeError(
            "wrong_direction",
            f"A {receiver_side} does not receive {envelope['type']} messages.",
        )
    message_type = TYPE_ALIASES.get(envelope["type"], envelope["type"])
    return dict(envelope, type=message_type)


def public_outcome(outcome):
    """What of a receiver's outcome crosses back to the sender."""
    return {key: outcome[key] for key in OUTCOME_KEYS if key in outcome}


def signed_bytes(database, connection_uid, timestamp, nonce, body):
    """The bytes a signature covers: the routing headers and the body, so
    that none of them can be changed or moved to another connection."""
    head = f"{database}\n{connection_uid}\n{timestamp}\n{nonce}\n".encode()
    return head + body


def sign(secret, database, connection_uid, timestamp, nonce, body):
    return hmac.new(
        secret.encode(),
        signed_bytes(database, connection_uid, timestamp, nonce, body),
        hashlib.sha256,
    ).hexdigest()


def signature_matches(
    secret, signature, database, connection_uid, timestamp, nonce, body
):
    expected = sign(secret, database, connection_uid, timestamp, nonce, body)
    return hmac.compare_digest(expected, signature or "")


def signed_headers(secret, database, connection_uid, body, timestamp, nonce=None):
    """The headers of a signed request carrying ``body``."""
    nonce = nonce or new_nonce()
    timestamp = str(int(timestamp))
    return {
        "Content-Type": "application/json",
        HEADER_DATABASE: database,
        HEADER_CONNECTION: connection_uid,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: sign(
            secret, database, connection_uid, timestamp, nonce, body
        ),
    }


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
    keys = {"url", "database", "uid", "secret", "role", "company"}
    if not isinstance(data, dict) or not keys.issubset(data):
        return None
    return data
