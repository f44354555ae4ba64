# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Who makes what in the partner's company (issue 19, point 6).

A document made at the other company is made by the K2K user, with that
company's own defaults, whoever sent it (a buyer's purchase user confirming
an order, a vendor's billing user posting an invoice) and whichever
transport carried it; what K2K asks of a company (an activity) goes to that
company's people."""

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from .. import wire
from .common import (
    add_company_users,
    make_company_user,
    make_remote_buyer_connection,
    signed_body,
)
from .common_flow import K2KFlowCommon


@tagged("post_install", "-at_install")
class TestK2KActingUser(K2KFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.k2k_user = cls.env.ref("k2k_network.user_k2k", raise_if_not_found=False)
        add_company_users(
            cls,
            cls.buyer,
            # A wholesaler's purchase user who also sells in the buyer company.
            purchaser="purchase.group_purchase_user,sales_team.group_sale_salesman,"
            "account.group_account_invoice",
            buyer_seller="sales_team.group_sale_salesman",
            buyer_manager="purchase.group_purchase_manager",
        )
        add_company_users(
            cls,
            cls.vendor,
            vendor_seller="sales_team.group_sale_salesman",
            vendor_manager="sales_team.group_sale_manager,account.group_account_invoice",
            vendor_biller="account.group_account_invoice",
        )
        # None of them has an e-mail address, as many real users.
        people = cls.purchaser | cls.buyer_seller | cls.buyer_manager
        people |= cls.vendor_seller | cls.vendor_manager | cls.vendor_biller
        people.partner_id.email = False
        # Agreed prices that differ from the vendor's list prices.
        cls.lines = [(cls.buyer_rose, 100, 0.72), (cls.buyer_tulip, 40, 0.45)]
        # The vendor sells to this buyer at the agreed prices.
        cls._k2k_agree_prices({cls.vendor_rose: 0.72, cls.vendor_tulip: 0.45})

    def _as(self, records, user):
        return records.with_user(user).with_context(
            allowed_company_ids=user.company_id.ids
        )

    def _po_as(self, user, representative=None):
        vals = {
            "partner_id": self.vendor.partner_id.id,
            "company_id": self.buyer.id,
            "order_line": [
                Command.create(
                    {"product_id": product.id, "product_qty": qty, "price_unit": price}
                )
                for product, qty, price in self.lines
            ],
        }
        if representative is not None:
            vals["user_id"] = representative.id
        po = self._as(self.env["purchase.order"], user).create(vals)
        po.button_confirm()
        return po.with_env(self.env)

    def _assert_nowhere(self, records, user, what):
        """``user`` of the other company made nothing of ``records``, wrote
        nothing, follows nothing, said nothing."""
        for record in records:
            self.assertNotEqual(record.create_uid, user, f"{what}: made by")
            self.assertNotEqual(record.write_uid, user, f"{what}: written by")
            if "message_ids" in record._fields:
                self.assertNotIn(
                    user.partner_id, record.message_ids.author_id, f"{what}: said by"
                )
                self.assertNotIn(
                    user.partner_id, record.message_partner_ids, f"{what}: followed by"
                )

    # -- the K2K order at the vendor -----------------------------------------

    def test_a_buyers_purchase_user_makes_nothing_at_the_vendor(self):
        self.connection.buyer_partner_id.user_id = self.vendor_seller
        po = self._po_as(self.purchaser)
        so = po.k2k_sale_order_id
        self.assertTrue(so, po.message_ids.mapped("body"))
        self.assertEqual(so.create_uid, self.k2k_user)
        self.assertEqual(so.order_line.create_uid, self.k2k_user)
        self.assertEqual(so.user_id, self.vendor_seller, "the customer's salesperson")
        self._assert_nowhere(so, self.purchaser, "K2K order")
        self._assert_nowhere(so.order_line, self.purchaser, "K2K order line")
        self.assertEqual(so.order_line.mapped("price_unit"), [0.72, 0.45])
        invoice = self._vendor_invoice(so)
        self.assertEqual(invoice.invoice_user_id, self.vendor_seller, "as Odoo does")
        self._assert_nowhere(invoice, self.purchaser, "vendor's invoice")

    def test_without_a_salesperson_of_the_vendor_the_connections_responsible(self):
        # In one database the buyer's partner is shared: its salesperson is
        # the buyer's own, who sells nothing for the vendor.
        self.connection.buyer_partner_id.user_id = self.buyer_seller
        self.connection.write({"vendor_user_id": self.vendor_manager.id})
        po = self._po_as(self.purchaser)
        so = po.k2k_sale_order_id
        self.assertEqual(so.user_id, self.vendor_manager)
        self.assertEqual(so.create_uid, self.k2k_user)
        # Nobody to choose: no salesperson at all, never the sender.
        self.connection.write({"vendor_user_id": False})
        self.connection.vendor_accepted_by_id = self.buyer_seller
        so = self._po_as(self.purchaser).k2k_sale_order_id
        self.assertFalse(so.user_id)
        self.assertEqual(so.create_uid, self.k2k_user)

    def test_the_k2k_user_cannot_log_in_and_sells_nothing(self):
        user = self.k2k_user
        self.assertTrue(user, "the K2K user exists")
        self.assertFalse(user.active, "nobody logs in as the K2K user")
        self.assertFalse(user.share, "an internal user, as OdooBot")
        self.assertFalse(user.sudo().password)
        self.assertFalse(user.has_group("sales_team.group_sale_salesman"))
        self.assertFalse(user.has_group("purchase.group_purchase_user"))

    # -- the bill at the buyer -----------------------------------------------

    def test_a_vendors_billing_user_makes_nothing_at_the_buyer(self):
        po = self._buyer_po(self.lines)
        self._validate_pickings(po.picking_ids)
        invoice = self._vendor_invoice(po.k2k_sale_order_id, post=False)
        self._as(invoice, self.vendor_biller).action_post()
        # "Send Now", by the vendor's billing user.
        self._as(invoice.k2k_message_ids, self.vendor_biller).action_process_now()
        bill = self._bill_of(invoice)
        self.assertTrue(bill, invoice.k2k_message_ids.mapped("state_detail"))
        self.assertEqual(bill.create_uid, self.k2k_user)
        self.assertEqual(bill.invoice_line_ids.create_uid, self.k2k_user)
        self._assert_nowhere(bill, self.vendor_biller, "buyer's bill")
        self._assert_nowhere(bill.line_ids, self.vendor_biller, "buyer's bill line")
        self.assertFalse(bill.invoice_user_id, "a vendor bill has no salesperson")
        # The purchase order's chatter is the buyer's too.
        self.assertNotIn(self.vendor_biller.partner_id, po.message_ids.author_id)

    # -- activities --------------------------------------------------------

    def test_a_dispute_asks_a_person_of_the_vendor(self):
        # The K2K order of a purchaser who sells too (at the buyer): the
        # customer has no salesperson, the vendor's responsible sells.
        po = self._po_as(self.purchaser)
        self._validate_pickings(po.picking_ids)
        invoice = self._vendor_invoice(po.k2k_sale_order_id)
        self._process()
        self._bill_of(invoice)._k2k_dispute("price", "agreed 0.72 a stem")
        self._process()
        self.assertEqual(invoice.k2k_buyer_status, "disputed")
        activity = invoice.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertNotEqual(activity.user_id, self.purchaser)
        self.assertIn(self.vendor, activity.user_id.company_ids)
        # By default, who accepted the connection for the vendor.
        self.assertEqual(activity.user_id, self.connection.vendor_accepted_by_id)
        self.assertEqual(activity.create_uid, self.k2k_user)
        self._assert_nowhere(invoice, self.purchaser, "disputed invoice")

    def test_a_dispute_of_an_invoice_sold_by_another_company_asks_the_responsible(
        self,
    ):
        self.connection.buyer_partner_id.user_id = self.vendor_seller
        self.connection.write({"vendor_user_id": self.vendor_manager.id})
        po = self._po_as(self.purchaser)
        self._validate_pickings(po.picking_ids)
        invoice = self._vendor_invoice(po.k2k_sale_order_id)
        self.assertEqual(invoice.invoice_user_id, self.vendor_seller)
        self._process()
        self._bill_of(invoice)._k2k_dispute("quantity", False)
        self._process()
        self.assertEqual(invoice.activity_ids.user_id, self.vendor_seller)
        # The salesperson left the vendor: the responsible is asked.
        invoice.activity_ids.unlink()
        self.vendor_seller.write(
            {
                "company_ids": [Command.set(self.buyer.ids)],
                "company_id": self.buyer.id,
            }
        )
        bill = self._bill_of(invoice)
        bill._k2k_set_approval("pending", "back")
        bill._k2k_dispute("price", False)
        self._process()
        self.assertEqual(invoice.activity_ids.user_id, self.vendor_manager)

    def test_a_vendor_change_asks_a_person_of_the_buyer(self):
        # An automation's order (OdooBot, no purchase representative).
        root = self.env.ref("base.user_root")
        po = self._po_as(root, representative=self.env["res.users"])
        self.assertFalse(po.user_id)
        so = po.k2k_sale_order_id.with_company(self.vendor)
        so.action_confirm()
        so.order_line[0].product_uom_qty = 60
        self._process()
        activity = po.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertNotEqual(activity.user_id, root)
        self.assertIn(self.buyer, activity.user_id.company_ids)
        self.assertEqual(activity.user_id, self.connection.buyer_accepted_by_id)
        self.assertEqual(po.write_uid, self.k2k_user)
        # Named by the buyer: its responsible.
        self.connection.write({"buyer_user_id": self.buyer_manager.id})
        activity.unlink()
        so.order_line[0].product_uom_qty = 50
        self._process()
        self.assertEqual(po.activity_ids.user_id, self.buyer_manager)

    def test_the_purchase_representative_is_asked_first(self):
        po = self._po_as(self.purchaser)
        so = po.k2k_sale_order_id.with_company(self.vendor)
        so.action_confirm()
        so.order_line[0].product_uom_qty = 60
        self._process()
        self.assertEqual(po.activity_ids.user_id, self.purchaser)

    # -- the connection's responsibles ---------------------------------------

    def test_the_responsible_is_a_person_of_its_side(self):
        connection = self.connection
        self.assertEqual(connection.vendor_user_id, connection.vendor_accepted_by_id)
        self.assertEqual(connection.buyer_user_id, connection.buyer_accepted_by_id)
        for side, stranger in (
            ("vendor", self.purchaser),
            ("buyer", self.vendor_seller),
            ("vendor", self.k2k_user),
        ):
            with self.assertRaises(ValidationError), self.cr.savepoint():
                connection.write({f"{side}_user_id": stranger.id})
        connection.write(
            {
                "vendor_user_id": self.vendor_manager.id,
                "buyer_user_id": self.buyer_manager.id,
            }
        )
        with self.assertRaises(AccessError):
            self._as(connection, self.vendor_manager).write(
                {"vendor_user_id": self.vendor_seller.id}
            )
        # An administrator of the buyer only chooses the buyer's.
        admin = make_company_user(
            self.env, "k2k_acting_buyer_admin", self.buyer, "base.group_system"
        )
        admin.partner_id.email = False
        with self.assertRaises(UserError):
            self._as(connection, admin).write({"vendor_user_id": self.vendor_seller.id})
        self._as(connection, admin).write({"buyer_user_id": self.purchaser.id})
        self.assertEqual(connection.buyer_user_id, self.purchaser)


@tagged("post_install", "-at_install")
class TestK2KActingUserHttp(HttpCase):
    """Over HTTP: the endpoint applies as the K2K user, not as OdooBot."""

    def setUp(self):
        super().setUp()
        self.k2k_user = self.env.ref("k2k_network.user_k2k", raise_if_not_found=False)
        self.vendor = self.env["res.company"].create({"name": "K2K Far Vendor"})
        self.key = wire.new_secret()
        self.connection = make_remote_buyer_connection(
            self.env, self.vendor, "Far Buyer", "http://127.0.0.1:9", self.key
        )
        self.product = self.env["product.product"].create(
            {
                "name": "Gerbera Mix",
                "default_code": "V-GERB",
                "company_id": self.vendor.id,
                "list_price": 0.60,
                "sale_ok": True,
            }
        )
        self.seller = new_test_user(
            self.env,
            login="k2k_far_vendor_seller",
            groups="sales_team.group_sale_salesman",
            company_id=self.vendor.id,
            company_ids=[Command.set(self.vendor.ids)],
        )

    def _post(self, envelope):
        body, headers = signed_body(
            self, self.connection, self.key, wire.MESSAGE_PATH, envelope
        )
        return self.url_open(wire.MESSAGE_PATH, data=body, headers=headers)

    def test_the_endpoint_makes_the_k2k_order_as_the_k2k_user(self):
        self.connection.buyer_partner_id.user_id = self.seller
        envelope = wire.build_envelope(
            "order",
            wire.new_uid(),
            1,
            {
                "purchase_order_name": "P00042",
                "currency": self.vendor.currency_id.name,
                "notes": "",
                "lines": [
                    {
                        "purchase_line_ref": wire.new_uid(),
                        "vendor_code": "V-GERB",
                        "shared_product_name": False,
                        "product_name": "Gerbera",
                        "quantity": 30,
                        "price_unit": 0.55,
                        "discount": 0.0,
                    }
                ],
            },
        )
        response = self._post(envelope)
        self.assertEqual(response.status_code, 200, response.text)
        so = self.env["sale.order"].search(
            [("k2k_document_uid", "=", envelope["document_uid"])]
        )
        self.assertTrue(so)
        self.assertEqual(so.create_uid, self.k2k_user)
        self.assertEqual(so.user_id, self.seller)
        self.assertNotEqual(so.create_uid, self.env.ref("base.user_root"))
