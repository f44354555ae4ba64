# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import json
import threading
import time
from http.server import ThreadingHTTPServer

from odoo.tests import TransactionCase, new_test_user

from .. import wire


def allow_plain_http(env):
    """The partners of these tests listen on loopback ports over plain
    http: allowed only where the setting says so explicitly."""
    env["ir.config_parameter"].sudo().set_param("k2k_network.allow_http", "1")


def signed_body(case, connection, key, path, data, database=None):
    """``(body, headers)`` of a request of ``data`` to ``path`` of this
    database (or of ``database``), signed with ``key`` as the partner of
    ``connection`` signs it."""
    body = json.dumps(data).encode()
    headers = wire.signed_headers(
        key,
        path,
        database or case.env.cr.dbname,
        connection.connection_uid,
        body,
        time.time(),
    )
    return body, headers


def apply_envelope(connection, envelope):
    """Apply ``envelope`` through ``connection`` as the receiving side of
    this database does (``k2k.inbox``); return its outcome, or raise what
    refused it."""
    (result,) = connection.env["k2k.inbox"]._k2k_apply_batch(
        connection, [envelope], raise_errors=True
    )
    if isinstance(result, Exception):
        raise result
    return result


# The smallest file a PDF reader opens: what an invoice envelope carries here.
TINY_PDF = base64.b64encode(
    b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
).decode()


def invoice_envelope(uid, number, price, currency, revision=1):
    """A vendor's invoice envelope of one line of 10 roses at ``price`` in
    ``currency`` (a code), with its PDF, as a partner in another database
    sends it."""
    return wire.build_envelope(
        "invoice",
        uid,
        revision,
        {
            "move_type": "out_invoice",
            "invoice_number": number,
            "invoice_date": "2026-11-20",
            "invoice_date_due": "2026-12-20",
            "currency": currency,
            "lines": [
                {
                    "purchase_line_ref": "",
                    "name": "Roses",
                    "quantity": 10,
                    "price_unit": price,
                    "discount": 0,
                }
            ],
        },
        [{"name": f"{number}.pdf", "mimetype": "application/pdf", "datas": TINY_PDF}],
    )


def make_company_user(env, login, company, groups):
    """A user allowed in ``company`` only, with ``groups`` (xml ids, comma
    separated)."""
    return new_test_user(
        env,
        login=login,
        groups=groups,
        company_id=company.id,
        company_ids=[(6, 0, company.ids)],
    )


def add_company_users(cls, company, **groups_by_name):
    """For each ``name=groups``: a user allowed in ``company`` only, with
    ``groups`` (xml ids, comma separated), logging in as ``k2k_<name>``,
    kept as ``cls.<name>``."""
    for name, groups in groups_by_name.items():
        setattr(cls, name, make_company_user(cls.env, f"k2k_{name}", company, groups))


def make_remote_vendor_connection(env, buyer_company, vendor_name, inbound_key):
    """An active connection of ``buyer_company`` to a vendor in another
    database (nobody listens at its address): the partner's requests are
    signed with ``inbound_key``."""
    allow_plain_http(env)
    vendor = env["res.partner"].create({"name": vendor_name, "is_company": True})
    connection = env["k2k.connection"].create(
        {
            "transport": "http",
            "local_role": "buyer",
            "buyer_company_id": buyer_company.id,
            "vendor_partner_id": vendor.id,
            "remote_url": "http://127.0.0.1:9",
            "remote_database": f"{vendor_name.lower().replace(' ', '_')}_db",
            "remote_company_name": vendor_name,
            "connection_uid": wire.new_uid(),
            "inbound_key": inbound_key,
            "outbound_key": wire.new_secret(),
        }
    )
    connection.state = "active"
    return connection


def make_remote_buyer_connection(env, vendor_company, buyer_name, url, key):
    """An active connection of ``vendor_company`` to a buyer in another
    database, at ``url``: requests and answers both signed with ``key``."""
    allow_plain_http(env)
    partner = env["res.partner"].create({"name": buyer_name})
    connection = env["k2k.connection"].create(
        {
            "transport": "http",
            "local_role": "vendor",
            "vendor_company_id": vendor_company.id,
            "buyer_partner_id": partner.id,
            "remote_url": url,
            "remote_database": "buyer_db",
            "remote_company_name": buyer_name,
            "connection_uid": wire.new_uid(),
            "inbound_key": key,
            "outbound_key": key,
        }
    )
    connection.state = "active"
    return connection


def queue_status_messages(env, connection, count, state="queued"):
    """``count`` status messages of ``connection`` in the outbox, in
    ``state``: the lightest messages there are, each on its own."""
    return (
        env["k2k.message"]
        .sudo()
        .create(
            [
                {
                    "name": f"status {index}",
                    "connection_id": connection.id,
                    "message_type": "status",
                    "document_uid": wire.new_uid(),
                    "revision": 1,
                    "res_model": "k2k.connection",
                    "res_id": connection.id,
                    "payload": {"state": "active", "settings": {}},
                    "state": state,
                }
                for index in range(count)
            ]
        )
    )


def answer_is_signed(case, connection, key, path, request_headers, response):
    """Whether ``response``, the answer to the request of ``request_headers``
    sent to ``path`` of this database through ``connection``, is signed
    with ``key`` for that request."""
    return wire.answer_matches(
        key,
        response.headers,
        path,
        case.env.cr.dbname,
        connection.connection_uid,
        request_headers[wire.HEADER_NONCE],
        response.status_code,
        response.content,
        time.time(),
    )


def serve_in_background(test, handler):
    """A real HTTP server on a free loopback port, answering with
    ``handler`` on a thread of its own until ``test`` ends; return it and
    its address."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    test.addCleanup(server.server_close)
    test.addCleanup(server.shutdown)
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class K2KCommon(TransactionCase):
    """Two companies of this database (a vendor and a buyer), a third one that
    has nothing to do with them, and an admin of each."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        allow_plain_http(cls.env)
        Company = cls.env["res.company"]
        cls.vendor_company = Company.create({"name": "K2K Test Vendor"})
        cls.buyer_company = Company.create({"name": "K2K Test Buyer"})
        cls.other_company = Company.create({"name": "K2K Test Outsider"})
        cls.vendor_admin = cls._make_user(
            "k2k_vendor_admin", cls.vendor_company, "base.group_system"
        )
        cls.buyer_admin = cls._make_user(
            "k2k_buyer_admin", cls.buyer_company, "base.group_system"
        )

    @classmethod
    def _make_user(cls, login, company, groups):
        return make_company_user(cls.env, login, company, groups)

    @classmethod
    def _create_connection(cls, **vals):
        return cls.env["k2k.connection"].create(
            {
                "vendor_company_id": cls.vendor_company.id,
                "buyer_company_id": cls.buyer_company.id,
                **vals,
            }
        )

    @classmethod
    def _activate(cls, connection):
        connection.with_user(cls.vendor_admin).action_accept_as_vendor()
        connection.with_user(cls.buyer_admin).action_accept_as_buyer()
        return connection
