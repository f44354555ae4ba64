# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the values of a K2K payload may be: part of the protocol (see
``wire.check_payload``), kept apart for its length. Imports no Odoo."""

import base64
import binascii
import datetime
import math
import re

# The refusal codes of the values' checks (``wire`` names them all).
ERROR_MALFORMED_BODY = "malformed_body"
ERROR_INVALID_VALUE = "invalid_value"


class EnvelopeError(ValueError):
    """An envelope the receiver cannot take: ``code`` names the reason for
    machines, the message for people."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


MAX_AMOUNT = 10**12
MAX_QUANTITY = 10**9
MAX_LINES = 5000
MAX_ATTACHMENTS = 5

# What a vendor answers about a K2K order.
ORDER_ANSWER_STATES = ("confirmed", "cancelled")
# What a buyer tells of the bill it made of an invoice, and why it disputes it.
BILL_STATUSES = (
    "pending",
    "approved",
    "sent_back",
    "disputed",
    "posted",
    "partial",
    "paid",
    "cancelled",
    # The buyer deleted its draft bill: the vendor's next revision makes it again.
    "deleted",
)
DISPUTE_REASONS = ("quantity", "price", "damaged", "other")
# How a tax of an invoice line computes (Odoo's own kinds, a group given as
# its taxes): what a receiver needs to find a tax of its own that gives the
# same amount.
TAX_AMOUNT_TYPES = ("percent", "fixed", "division")
MAX_TAXES = 20


# The longest text of a partner that is stored or shown (a reason, a name,
# a reference): enough for any honest one.
MAX_TEXT = 4096
# Characters no partner's text may bring: control characters (a NUL byte
# aborts the whole transaction that stores it), except tab and line ends, and
# lone surrogates (JSON can carry them, PostgreSQL cannot store them).
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def is_clean(value):
    """Whether a text has no character ``clean_text`` would drop."""
    return not _UNSAFE.search(value)


def clean_text(value, limit=MAX_TEXT):
    """A text that came from a partner, fit to store and to show: without
    control characters (but tab and line ends) and at most ``limit``
    characters. Anything else than a text is returned as it is."""
    if not isinstance(value, str):
        return value
    value = _UNSAFE.sub("", value)
    if len(value) > limit:
        value = value[: limit - 1] + "\u2026"
    return value


def clean_received(data, limit=MAX_TEXT):
    """``data`` (a partner's decoded JSON answer) with every text in it,
    keys included, passed through ``clean_text``."""
    if isinstance(data, dict):
        return {
            clean_text(key, limit): clean_received(value, limit)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [clean_received(value, limit) for value in data]
    return clean_text(data, limit)


def _text(value):
    return isinstance(value, str) and 0 < len(value) <= MAX_TEXT and is_clean(value)


def _free_text(value):
    return isinstance(value, str) and is_clean(value)


def _optional(check):
    return lambda value: value in (None, False, "") or check(value)


def _number(low, high):
    def check(value):
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and low <= value <= high
        )

    return check


def _date(value):
    if not (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _currency(value):
    return isinstance(value, str) and bool(re.fullmatch(r"[A-Z]{3}", value))


def _choice(*values):
    return lambda value: value in values


# The highest receipt number (see wire.POSITION_KEYS): a PostgreSQL integer.
MAX_RECEIPT = 2**31 - 1


def is_receipt(value):
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 0 <= value <= MAX_RECEIPT
    )


def is_position(value):
    return (
        isinstance(value, dict)
        and set(value)
        <= {"history", "receipts", "since", "seen", "seen_in", "since_seen"}
        and _is_history(value.get("history"))
        and is_receipt(value.get("receipts"))
        and all(
            is_receipt(value[key])
            for key in ("since", "seen", "since_seen")
            if key in value
        )
        and ("seen_in" not in value or _is_history(value["seen_in"]))
    )


def _is_history(value):
    return isinstance(value, str) and bool(re.fullmatch(r"[0-9a-f]{32}", value))


def is_key(value):
    """A signing key as ``wire.new_secret`` makes them (URL-safe base64 of
    at least 32 bytes)."""
    return isinstance(value, str) and bool(
        re.fullmatch(r"[A-Za-z0-9_-]{43,128}", value)
    )


def _short_text(value):
    return _text(value) and len(value) <= 128


def _uom(value):
    """A unit of measure as ``k2k.document._k2k_export_uom`` sends it: its
    XML id in Odoo's ``uom`` module where it has one, its name, its
    category's name, and how many of the category's reference unit it holds
    (more than 0)."""
    return (
        isinstance(value, dict)
        and _optional(
            lambda xml_id: _short_text(xml_id)
            and bool(re.fullmatch(r"uom\.\w+", xml_id))
        )(value.get("xml_id"))
        and _short_text(value.get("name"))
        and _short_text(value.get("category"))
        and _number(0, MAX_QUANTITY)(value.get("ratio"))
        and value["ratio"] > 0
    )


def _lots(value):
    """Lot or serial numbers of a shipped line, each with its quantity."""
    return (
        isinstance(value, list)
        and len(value) <= MAX_LINES
        and all(
            isinstance(lot, dict)
            and _text(lot.get("name"))
            and _number(0, MAX_QUANTITY)(lot.get("quantity"))
            for lot in value
        )
    )


def _taxes(value):
    """The taxes of an invoice line, each by its kind, rate and whether the
    price includes it: never a record of the sender."""
    return (
        isinstance(value, list)
        and len(value) <= MAX_TAXES
        and all(
            isinstance(tax, dict)
            and tax.get("amount_type") in TAX_AMOUNT_TYPES
            and _number(-MAX_AMOUNT, MAX_AMOUNT)(tax.get("amount"))
            and isinstance(tax.get("price_include"), bool)
            for tax in value
        )
    )


# Message type -> (payload rules, rules of each of its "lines"). A key that
# no rule names is ignored; a rule's key that is missing is checked as None.
PAYLOAD_RULES = {
    "invoice": (
        {
            "move_type": _choice("out_invoice", "out_refund"),
            "invoice_number": _text,
            "invoice_date": _date,
            "invoice_date_due": _date,
            "payment_reference": _optional(_text),
            "currency": _currency,
            "amount_untaxed": _optional(_number(-MAX_AMOUNT, MAX_AMOUNT)),
            # Optional: a partner on an older version sends untaxed amounts only.
            "amount_tax": _optional(_number(-MAX_AMOUNT, MAX_AMOUNT)),
            "amount_total": _optional(_number(-MAX_AMOUNT, MAX_AMOUNT)),
            "reversed_document_uid": _optional(_text),
        },
        {
            "purchase_line_ref": _optional(_text),
            "name": _text,
            # Negative for a down payment's deduction only: see LINE_RULES.
            "quantity": _number(-MAX_QUANTITY, MAX_QUANTITY),
            "price_unit": _number(-MAX_AMOUNT, MAX_AMOUNT),
            "discount": _number(0, 100),
            # The unit of the quantity and of the price (none from a partner
            # on an older payload: the receiving line's own unit).
            "uom": _optional(_uom),
            "order_uid": _optional(_text),
            "is_downpayment": _optional(_choice(True)),
            "vendor_code": _optional(_text),
            "price_total": _optional(_number(-MAX_AMOUNT, MAX_AMOUNT)),
            "taxes": _optional(_taxes),
        },
    ),
    "invoice_cancel": ({"invoice_number": _optional(_text)}, None),
    "order": (
        {
            "purchase_order_name": _text,
            "currency": _currency,
            "notes": _optional(_free_text),
        },
        {
            "purchase_line_ref": _text,
            "vendor_code": _optional(_text),
            "shared_product_name": _optional(_text),
            "product_name": _text,
            "quantity": _number(0, MAX_QUANTITY),
            "price_unit": _number(0, MAX_AMOUNT),
            "discount": _number(0, 100),
            "uom": _optional(_uom),
        },
    ),
    "order_cancel": ({"purchase_order_name": _optional(_text)}, None),
    "status": (
        {
            "state": _choice("draft", "active", "suspended"),
            "company": _optional(_text),
            "settings": _optional(lambda value: isinstance(value, dict)),
        },
        None,
    ),
    "keys": ({"key": is_key}, None),
    "order_answer": (
        {
            "order_uid": _text,
            "vendor_order": _text,
            "state": _choice(*ORDER_ANSWER_STATES),
        },
        {
            "purchase_line_ref": _text,
            "quantity": _number(0, MAX_QUANTITY),
            "price_unit": _number(0, MAX_AMOUNT),
            "discount": _number(0, 100),
            "uom": _optional(_uom),
        },
    ),
    "shipment": (
        {
            "order_uid": _text,
            "shipment": _text,
            "tracking_ref": _optional(_text),
        },
        {
            "purchase_line_ref": _text,
            "shipped": _number(0, MAX_QUANTITY),
            "lots": _optional(_lots),
            "uom": _optional(_uom),
        },
    ),
    "return": (
        {
            "order_uid": _text,
            "return_ref": _text,
            "reason": _optional(_text),
        },
        {
            "purchase_line_ref": _text,
            "returned": _number(0, MAX_QUANTITY),
            "uom": _optional(_uom),
        },
    ),
    "bill_status": (
        {
            "invoice_uid": _text,
            "status": _choice(*BILL_STATUSES),
            "reason": _optional(_choice(*DISPUTE_REASONS)),
            "note": _optional(_text),
            # What the buyer paid of its bill and what is left, in the
            # invoice's currency (optional: an older partner sends neither).
            "amount_paid": _optional(_number(0, MAX_AMOUNT)),
            "amount_residual": _optional(_number(0, MAX_AMOUNT)),
        },
        None,
    ),
}


def _invoice_line_together(line):
    """The keys of an invoice line wrong together: only a down payment's
    deduction bills a negative quantity, and a down payment names its K2K
    order and the purchase line it becomes."""
    wrong = []
    if line.get("is_downpayment"):
        wrong += [
            key for key in ("order_uid", "purchase_line_ref") if not line.get(key)
        ]
    elif line["quantity"] < 0:
        wrong.append("quantity")
    return wrong


# Message type -> the rule of each line's values together, once each value
# passed its own rule: the names of the wrong keys.
LINE_RULES = {"invoice": _invoice_line_together}


def _check_values(rules, values, where, together=None):
    wrong = [key for key, check in rules.items() if not check(values.get(key))]
    if not wrong and together:
        wrong = together(values)
    if wrong:
        raise EnvelopeError(
            ERROR_INVALID_VALUE,
            f"Missing or out of range in {where}: {', '.join(wrong)}.",
        )


def check_payload(envelope):
    """Raise ``EnvelopeError`` unless every value the receiver reads has the
    type and range it expects, and every attachment is a PDF."""
    payload_rules, line_rules = PAYLOAD_RULES[envelope["type"]]
    payload = envelope["payload"]
    _check_values(payload_rules, payload, "the message")
    if line_rules:
        lines = payload.get("lines")
        if not isinstance(lines, list) or len(lines) > MAX_LINES:
            raise EnvelopeError(ERROR_INVALID_VALUE, "The lines are missing.")
        for number, line in enumerate(lines, start=1):
            if not isinstance(line, dict):
                raise EnvelopeError(
                    ERROR_INVALID_VALUE, f"Line {number} is not a line."
                )
            _check_values(
                line_rules,
                line,
                f"line {number}",
                LINE_RULES.get(envelope["type"]),
            )
    check_attachments(envelope["attachments"])


def check_attachments(attachments):
    if len(attachments) > MAX_ATTACHMENTS:
        raise EnvelopeError(ERROR_INVALID_VALUE, "Too many attachments.")
    for attachment in attachments:
        if not (
            isinstance(attachment, dict)
            and _text(attachment.get("name"))
            and attachment.get("mimetype") == "application/pdf"
            and isinstance(attachment.get("datas"), str)
        ):
            raise EnvelopeError(ERROR_INVALID_VALUE, "An attachment is not a PDF file.")
        try:
            head = base64.b64decode(attachment["datas"][:16], validate=True)
        except (binascii.Error, ValueError) as error:
            raise EnvelopeError(
                ERROR_INVALID_VALUE, "An attachment is not base64."
            ) from error
        if not head.startswith(b"%PDF"):
            raise EnvelopeError(ERROR_INVALID_VALUE, "An attachment is not a PDF file.")
