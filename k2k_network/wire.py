# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What travels between two databases of a K2K network, and how it is signed.

Both ends import this module, so the sender and the receiver can never
disagree about a header name or about which bytes are signed.
"""

import base64
import hashlib
import hmac
import json
import secrets

# Path of the endpoints, versioned so that a later format can live beside.
MESSAGE_PATH = "/k2k/v1/message"
HANDSHAKE_PATH = "/k2k/v1/handshake"

HEADER_DATABASE = "X-K2K-Database"
HEADER_CONNECTION = "X-K2K-Connection"
HEADER_TIMESTAMP = "X-K2K-Timestamp"
HEADER_NONCE = "X-K2K-Nonce"
HEADER_SIGNATURE = "X-K2K-Signature"

# A request older or newer than this (seconds) is refused as stale; its
# nonce only needs to be remembered for that long.
MAX_CLOCK_SKEW = 300

INVITATION_PREFIX = "K2K1."


def new_secret():
    return secrets.token_urlsafe(32)


def new_nonce():
    return secrets.token_hex(16)


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
