"""The K2K protocol, version 2, in golden files: a request of each message
type with its answer, a batch with a refused envelope, a refused request and
the signatures of a request and its answer (``k2k_network/tests/golden_v2``).

These tests need no database and no Odoo: any other implementation of the
protocol (a port of the addon to a later Odoo, a partner's own system) can
check itself against the same files. The addon's own exports are checked
against them in ``k2k_network/tests/test_k2k_protocol.py``.
"""

import hashlib
import hmac
import json

import pytest
from remote_network import ADDON_DIR, load_wire

wire = load_wire()

GOLDEN = ADDON_DIR / "tests" / "golden_v2"


def _golden(name):
    return json.loads((GOLDEN / f"{name}.json").read_text())


def _receivers(side):
    return (wire.VENDOR, wire.BUYER) if side == wire.ANY_SIDE else (side,)


@pytest.mark.parametrize("message_type", sorted(wire.MESSAGE_TYPES))
def test_a_golden_request_of_each_type_is_taken_by_its_receiver(message_type):
    golden = _golden(message_type)
    envelope = golden["envelope"]
    assert envelope["version"] == wire.PROTOCOL_VERSION == 2
    assert golden["receiver"] == wire.receiving_side(message_type)
    assert golden["path"] == wire.MESSAGE_PATH
    for side in _receivers(golden["receiver"]):
        assert wire.check_envelope(envelope, side) == envelope
    wire.check_payload(envelope)
    assert envelope == wire.build_envelope(
        message_type,
        envelope["document_uid"],
        envelope["revision"],
        envelope["payload"],
        envelope["attachments"],
    )
    if golden["receiver"] != wire.ANY_SIDE:
        with pytest.raises(wire.EnvelopeError) as refused:
            wire.check_envelope(envelope, wire.other_side(golden["receiver"]))
        assert refused.value.code == wire.ERROR_WRONG_DIRECTION


@pytest.mark.parametrize("message_type", sorted(wire.MESSAGE_TYPES))
def test_a_golden_answer_of_each_type_is_an_outcome_and_a_status(message_type):
    answer = _golden(message_type)["answer"]
    assert answer["status"] == 200
    body = answer["body"]
    assert body["ok"] is True
    assert body["outcome"] in wire.OUTCOMES
    assert set(body) - {"ok", "status"} <= set(wire.OUTCOME_KEYS)
    assert wire.public_outcome(body) == {
        key: value for key, value in body.items() if key not in ("ok", "status")
    }
    # Every answer tells the answering side's state and switches.
    status = wire.build_envelope("status", "s", 1, body["status"])
    wire.check_payload(status)
    assert set(body["status"]["settings"]) == set(wire.AUTOMATION_KEYS)


def test_a_golden_batch_gives_each_envelope_its_outcome():
    golden = _golden("batch")
    assert golden["path"] == wire.BATCH_PATH
    envelopes = wire.check_batch(golden["request"])
    assert len(envelopes) == 2
    wire.check_payload(envelopes[0])
    with pytest.raises(wire.EnvelopeError) as refused:
        wire.check_payload(envelopes[1])
    body = golden["answer"]["body"]
    outcomes = wire.batch_outcomes(body, len(envelopes))
    assert outcomes[0]["outcome"] == wire.OUTCOME_APPLIED
    assert outcomes[1] == {
        "outcome": wire.OUTCOME_REFUSED,
        "error": refused.value.code,
        "reason": body["outcomes"][1]["reason"],
    }
    assert outcomes[1]["error"] in wire.ERRORS
    # An answer that does not give one outcome per envelope is no answer.
    assert wire.batch_outcomes(body, 3) is None


def _hmac(secret, method, headers, path, body):
    """The signature as the protocol defines it, written out here rather
    than through the addon's code: HMAC-SHA256, hex, over the method, the
    path, the database, the connection, the timestamp and the nonce, each
    followed by a newline, then the body."""
    head = "\n".join(
        (
            method,
            path,
            headers[wire.HEADER_DATABASE],
            headers[wire.HEADER_CONNECTION],
            headers[wire.HEADER_TIMESTAMP],
            headers[wire.HEADER_NONCE],
            "",
        )
    )
    return hmac.new(
        secret.encode(), head.encode() + body.encode(), hashlib.sha256
    ).hexdigest()


def test_the_golden_signatures_are_the_protocol_s():
    golden = _golden("signing")
    secret, path = golden["secret"], golden["path"]
    request = golden["request"]
    headers = request["headers"]
    assert headers[wire.HEADER_SIGNATURE] == _hmac(
        secret, "POST", headers, path, request["body"]
    )
    assert headers == wire.signed_headers(
        secret,
        path,
        headers[wire.HEADER_DATABASE],
        headers[wire.HEADER_CONNECTION],
        request["body"].encode(),
        int(headers[wire.HEADER_TIMESTAMP]),
        nonce=headers[wire.HEADER_NONCE],
    )
    # The answer: signed as "ANSWER <status>", bound to the request's nonce.
    answer = golden["answer"]
    bound = dict(headers, **answer["headers"])
    assert answer["headers"][wire.HEADER_SIGNATURE] == _hmac(
        secret, f"ANSWER {answer['status']}", bound, path, answer["body"]
    )
    check = (
        secret,
        answer["headers"],
        path,
        headers[wire.HEADER_DATABASE],
        headers[wire.HEADER_CONNECTION],
        headers[wire.HEADER_NONCE],
    )
    now = int(answer["headers"][wire.HEADER_TIMESTAMP])
    assert wire.answer_matches(*check, answer["status"], answer["body"].encode(), now)
    # Another status, another body, or too late: not this answer.
    assert not wire.answer_matches(*check, 201, answer["body"].encode(), now)
    assert not wire.answer_matches(*check, 200, b"{}", now)
    late = now + wire.MAX_CLOCK_SKEW + 1
    assert not wire.answer_matches(*check, 200, answer["body"].encode(), late)
    refusal = golden["refusal"]["body"]
    assert refusal["ok"] is False and refusal["error"] in wire.ERRORS


def test_every_error_code_is_a_constant_of_the_protocol():
    named = {
        value
        for name, value in vars(wire).items()
        if name.startswith("ERROR_") and isinstance(value, str)
    }
    assert named == set(wire.ERRORS)
    assert len(wire.ERRORS) == len(set(wire.ERRORS))
    for group in (wire.NOT_NOW_ERRORS, wire.RETRY_ERRORS, wire.TOO_LARGE_ERRORS):
        assert set(group) <= set(wire.ERRORS)
    assert not set(wire.NOT_NOW_ERRORS) & set(wire.RETRY_ERRORS)


def test_a_golden_request_with_a_value_out_of_its_range_is_refused():
    envelope = _golden("invoice")["envelope"]
    for key, value in (("currency", "eur"), ("invoice_date", "2026-02-30")):
        wrong = dict(envelope, payload=dict(envelope["payload"], **{key: value}))
        with pytest.raises(wire.EnvelopeError) as refused:
            wire.check_payload(wrong)
        assert refused.value.code == wire.ERROR_INVALID_VALUE
        assert key in str(refused.value)


def test_golden_answers_tell_the_receiver_s_position_and_receipts():
    answer = _golden("invoice")["answer"]["body"]
    position = wire.read_position(answer["status"]["position"])
    assert set(position) <= set(wire.POSITION_KEYS)
    assert position["receipts"] >= wire.read_receipt(answer) > position["since"]
    batch = _golden("batch")["answer"]["body"]
    outcomes = wire.batch_outcomes(batch, 2)
    assert wire.read_receipt(outcomes[0]) == batch["status"]["position"]["receipts"]
    assert wire.read_receipt(outcomes[1]) is None, "a refused envelope has none"
    # A request tells the sender's position beside its envelopes.
    told = wire.read_position(_golden("batch")["request"]["position"])
    assert told["seen_in"] == position["history"]
    assert told["history"] == position["seen_in"]
    for garbled in (
        {"history": "not hex", "receipts": 1},
        {"history": position["history"], "receipts": -1},
        {"history": position["history"], "receipts": wire.MAX_RECEIPT + 1},
        {"history": position["history"], "receipts": 1, "since": True},
        {"history": position["history"], "receipts": 1, "extra": 1},
        {"history": position["history"], "receipts": 1, "seen_in": "x", "seen": 1},
    ):
        assert wire.read_position(garbled) is None, garbled
