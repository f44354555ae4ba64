# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.tests import tagged

from .common_web import K2KWebSplitCommon

OCA_MODULE = "procurement_purchase_no_grouping"


@tagged("post_install", "-at_install")
class TestK2KWebSplitOCA(K2KWebSplitCommon):
    """Automation 3 beside OCA's procurement_purchase_no_grouping, which
    groups bought needs per company or per product category: standard, no
    line grouping ("line"), no order grouping ("order") or per product
    category. With automation 3 on, a web order still gets one purchase order
    of its own at its K2K vendor whatever the mode; with it off, the mode
    alone decides. ./scripts/test.sh installs the OCA module beside
    k2k_network, which does not depend on it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.oca_installed = bool(
            cls.env["ir.module.module"].search_count(
                [("name", "=", OCA_MODULE), ("state", "=", "installed")]
            )
        )
        Category = cls.env["product.category"]
        cls.roses = Category.create({"name": "K2K Roses"})
        cls.tulips = Category.create({"name": "K2K Tulips"})
        cls.buyer_carnation = cls._k2k_buyer_product(
            "White Carnation", "V-CARNATION", 0.30
        )
        cls.buyer_carnation.route_ids = [Command.set(cls.mto_buy_routes.ids)]
        (cls.buyer_rose | cls.buyer_carnation).categ_id = cls.roses
        cls.buyer_tulip.categ_id = cls.tulips

    def setUp(self):
        super().setUp()
        # A fail, not a skip: a test database without the module would
        # otherwise pass these tests without testing anything.
        if not self.oca_installed:
            self.fail(
                f"OCA's {OCA_MODULE} is not installed in this database: "
                "run ./scripts/test.sh, which installs it beside k2k_network."
            )

    # -- helpers -----------------------------------------------------------

    def _set_grouping(self, mode, on):
        """``mode`` for the K2K products, set on the buyer company ("company")
        or on their categories, which then override a different company
        mode ("category")."""
        categories = self.roses | self.tulips
        if on == "company":
            self.buyer.procured_purchase_grouping = mode
            categories.procured_purchase_grouping = False
        else:
            other = "standard" if mode == "order" else "order"
            self.buyer.procured_purchase_grouping = other
            categories.procured_purchase_grouping = mode

    def _web_and_office_orders(self):
        """An open back-office need, two web orders, another back-office
        need: the same three products for the same K2K vendor."""
        office_before = self._order([(self.buyer_rose, 4)], web=False)
        first = self._order(
            [(self.buyer_rose, 10), (self.buyer_tulip, 5), (self.buyer_carnation, 2)]
        )
        second = self._order([(self.buyer_rose, 3), (self.buyer_tulip, 1)])
        office_after = self._order([(self.buyer_tulip, 6)], web=False)
        return first, second, office_before | office_after

    def _lines(self, pos):
        """What each purchase order holds, as a comparable value: its lines
        as (product, quantity), the orders sorted."""
        return sorted(
            sorted((line.product_id.name, line.product_qty) for line in po.order_line)
            for po in pos
        )

    def _check_split(self, mode, on):
        self._set_grouping(mode, on)
        first, second, _office = self._web_and_office_orders()
        # A raised quantity is a new need: it joins its web order's own
        # order whatever the mode ("order" would make it one of its own).
        first.order_line.filtered(
            lambda line: line.product_id == self.buyer_rose
        ).product_uom_qty = 15
        pos = self._pos()
        for web, lines in (
            (first, [("Red Rose 50", 15), ("White Carnation", 2), ("Yellow Tulip", 5)]),
            (second, [("Red Rose 50", 3), ("Yellow Tulip", 1)]),
        ):
            own = pos.filtered(lambda po, web=web: po.k2k_web_sale_order_id == web)
            self.assertEqual(
                self._lines(own), [lines], f"{mode} on the {on}: {web.name}'s PO"
            )
            self.assertEqual(own.origin, web.name)
            self.assertEqual(web.purchase_order_count, 1)
        # The back-office needs keep the OCA mode among themselves.
        office_pos = pos.filtered(lambda po: not po.k2k_web_sale_order_id)
        expected = {
            "standard": [[("Red Rose 50", 4), ("Yellow Tulip", 6)]],
            "line": [[("Red Rose 50", 4), ("Yellow Tulip", 6)]],
            "order": [[("Red Rose 50", 4)], [("Yellow Tulip", 6)]],
            "product_category": [[("Red Rose 50", 4)], [("Yellow Tulip", 6)]],
        }[mode]
        self.assertEqual(self._lines(office_pos), expected, f"{mode} on the {on}")

    def _check_oca_decides(self, mode, on):
        self.buyer.k2k_split_ecommerce_po_enabled = False
        self._set_grouping(mode, on)
        self._web_and_office_orders()
        pos = self._pos()
        # What the OCA module makes of these needs on its own (its tests
        # and its documentation), the web orders being nothing special.
        expected = {
            "standard": [
                [("Red Rose 50", 17), ("White Carnation", 2), ("Yellow Tulip", 12)]
            ],
            # One order; a line per need, as each sale order has its own
            # procurement group.
            "line": [
                [
                    ("Red Rose 50", 3),
                    ("Red Rose 50", 4),
                    ("Red Rose 50", 10),
                    ("White Carnation", 2),
                    ("Yellow Tulip", 1),
                    ("Yellow Tulip", 5),
                    ("Yellow Tulip", 6),
                ]
            ],
            "order": [
                [("Red Rose 50", 3)],
                [("Red Rose 50", 4)],
                [("Red Rose 50", 10)],
                [("White Carnation", 2)],
                [("Yellow Tulip", 1)],
                [("Yellow Tulip", 5)],
                [("Yellow Tulip", 6)],
            ],
            "product_category": [
                [("Red Rose 50", 17), ("White Carnation", 2)],
                [("Yellow Tulip", 12)],
            ],
        }[mode]
        self.assertEqual(self._lines(pos), expected, f"{mode} on the {on}")
        self.assertFalse(pos.k2k_web_sale_order_id)

    def _check_stays_alone(self, mode):
        """A web order's purchase order made while automation 3 was on takes
        nothing more once it is off, whatever the mode."""
        self._set_grouping(mode, "company")
        web = self._order([(self.buyer_rose, 10)])
        web_po = self._pos()
        self.buyer.k2k_split_ecommerce_po_enabled = False
        self._order([(self.buyer_rose, 3)])
        self._order([(self.buyer_rose, 4)], web=False)
        self.assertEqual(web_po.k2k_web_sale_order_id, web)
        self.assertEqual(self._lines(web_po), [[("Red Rose 50", 10)]], mode)

    # -- automation 3 on: one purchase order per web order -----------------

    def test_on_standard_company(self):
        self._check_split("standard", "company")

    def test_on_line_company(self):
        self._check_split("line", "company")

    def test_on_order_company(self):
        self._check_split("order", "company")

    def test_on_product_category_company(self):
        self._check_split("product_category", "company")

    def test_on_standard_category(self):
        self._check_split("standard", "category")

    def test_on_line_category(self):
        self._check_split("line", "category")

    def test_on_order_category(self):
        self._check_split("order", "category")

    def test_on_product_category_category(self):
        self._check_split("product_category", "category")

    # -- automation 3 off: the OCA mode decides ----------------------------

    def test_off_standard_company(self):
        self._check_oca_decides("standard", "company")

    def test_off_line_company(self):
        self._check_oca_decides("line", "company")

    def test_off_order_company(self):
        self._check_oca_decides("order", "company")

    def test_off_product_category_company(self):
        self._check_oca_decides("product_category", "company")

    def test_off_standard_category(self):
        self._check_oca_decides("standard", "category")

    def test_off_line_category(self):
        self._check_oca_decides("line", "category")

    def test_off_order_category(self):
        self._check_oca_decides("order", "category")

    def test_off_product_category_category(self):
        self._check_oca_decides("product_category", "category")

    # -- switched off later: a web order's purchase order stays its own ----

    def test_stays_alone_standard(self):
        self._check_stays_alone("standard")

    def test_stays_alone_line(self):
        self._check_stays_alone("line")

    def test_stays_alone_order(self):
        self._check_stays_alone("order")

    def test_stays_alone_product_category(self):
        self._check_stays_alone("product_category")
