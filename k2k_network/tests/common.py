# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import TransactionCase, new_test_user

from .. import wire


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


def make_remote_vendor_connection(env, buyer_company, vendor_name, inbound_key):
    """An active connection of ``buyer_company`` to a vendor in another
    database (nobody listens at its address): the partner's requests are
    signed with ``inbound_key``."""
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


class K2KCommon(TransactionCase):
    """Two companies of this database (a vendor and a buyer), a third one that
    has nothing to do with them, and an admin of each."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
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
