# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Units of measure and agreed prices on a K2K order, as real companies have
them: the buyer buys a product by the dozen that its vendor sells by the
unit, and agreed prices differ from the vendor's list prices. Each side
reads quantities and prices in its own unit; the vendor's price list
decides its order, a difference from the buyer's price is shown for a
person to settle, and a quantity change never moves a price by itself."""

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from ..wire import build_envelope, new_uid
from ..wire_values import EnvelopeError, check_payload
from .common import apply_envelope
from .common_flow import K2KFlowCommon


@tagged("post_install", "-at_install")
class TestK2KUnitsPrices(K2KFlowCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.uom_unit = cls.env.ref("uom.product_uom_unit")
        cls.uom_dozen = cls.env.ref("uom.product_uom_dozen")
        # The vendor sells gerberas by the unit at 0.50; the buyer stocks
        # them by the unit but buys them by the dozen at 6.00.
        cls.vendor_gerbera = cls._k2k_vendor_product("Gerbera Mix", "V-GERB", 0.50)
        cls.buyer_gerbera = cls._k2k_buyer_product("Gerbera Mixed", "V-GERB", 6.00)
        cls.buyer_gerbera.uom_po_id = cls.uom_dozen
        # A rose the vendor lists at 1.20 and agreed with this buyer at 0.80.
        cls.vendor_rose.list_price = 1.20

    def _order(self, lines):
        po = self._buyer_po(lines)
        return po, po.k2k_sale_order_id.with_company(self.vendor)

    def _line(self, order, product):
        return order.order_line.filtered(lambda line: line.product_id == product)

    def _last_payload(self, message_type):
        return (
            self.env["k2k.message"]
            .search([("message_type", "=", message_type)], order="id desc", limit=1)
            .payload
        )

    def _agreed_pricelist(self, price, min_quantity=0):
        """A price list at the vendor for this customer with the agreed rose
        price."""
        pricelist = self.env["product.pricelist"].create(
            {
                "name": "Petal agreed prices",
                "company_id": self.vendor.id,
                "currency_id": self.vendor.currency_id.id,
                "item_ids": [
                    Command.create(
                        {
                            "applied_on": "0_product_variant",
                            "product_id": self.vendor_rose.id,
                            "compute_price": "fixed",
                            "fixed_price": price,
                            "min_quantity": min_quantity,
                        }
                    )
                ],
            }
        )
        self.buyer.partner_id.with_company(
            self.vendor
        ).property_product_pricelist = pricelist
        return pricelist

    # -- units of measure --------------------------------------------------

    def test_the_order_arrives_in_the_vendors_unit(self):
        po, so = self._order([(self.buyer_gerbera, 10, 6.00)])
        self.assertEqual(self._line(po, self.buyer_gerbera).product_uom, self.uom_dozen)
        line = self._line(so, self.vendor_gerbera)
        self.assertEqual(line.product_uom, self.uom_unit)
        self.assertAlmostEqual(line.product_uom_qty, 120)
        self.assertAlmostEqual(line.price_unit, 0.50)
        self.assertAlmostEqual(so.amount_untaxed, 60.0)
        self.assertFalse(so.k2k_price_differs, "6.00 a dozen is 0.50 a unit")
        told = self._last_payload("order")["lines"][0]
        self.assertEqual(told["uom"]["xml_id"], "uom.product_uom_dozen")
        self.assertEqual(told["uom"]["ratio"], 12.0)

    def test_the_shipment_fills_the_receipt_in_the_buyers_unit(self):
        po, so = self._order([(self.buyer_gerbera, 10, 6.00)])
        so.action_confirm()
        self._validate_pickings(so.picking_ids)
        self._process()
        self.assertEqual(
            self._last_payload("shipment")["lines"][0]["uom"]["name"], "Units"
        )
        move = po.picking_ids.move_ids.filtered(
            lambda m: m.state not in ("done", "cancel")
        )
        on_the_way = move.product_uom._compute_quantity(move.quantity, self.uom_dozen)
        self.assertAlmostEqual(on_the_way, 10, msg="120 units are 10 dozens")
        self.assertAlmostEqual(move.quantity, move.product_uom_qty)

    def test_the_vendors_cut_in_units_is_read_in_dozens(self):
        po, so = self._order([(self.buyer_gerbera, 10, 6.00)])
        so.action_confirm()
        self._process()
        self.assertEqual(po.k2k_vendor_state, "confirmed", "120 units are 10 dozens")
        self._line(so, self.vendor_gerbera).write(
            {"product_uom_qty": 60, "price_unit": 0.45}
        )
        self._process()
        po_line = self._line(po, self.buyer_gerbera)
        self.assertEqual(po_line.product_uom, self.uom_dozen)
        self.assertAlmostEqual(po_line.product_qty, 5)
        self.assertAlmostEqual(po_line.price_unit, 5.40)
        self.assertFalse(po.k2k_vendor_attention, "less goods, lower price: applied")
        self.assertEqual(po.k2k_vendor_state, "changed")

    def test_the_bill_says_dozens_as_the_purchase_line(self):
        po, invoice, bill = self._full_flow([(self.buyer_gerbera, 10, 6.00)])
        sold = invoice.invoice_line_ids
        self.assertEqual(sold.product_uom_id, self.uom_unit)
        self.assertAlmostEqual(sold.quantity, 120)
        self.assertEqual(
            self._last_payload("invoice")["lines"][0]["uom"]["xml_id"],
            "uom.product_uom_unit",
        )
        bill_line = bill.invoice_line_ids
        self.assertEqual(bill_line.purchase_line_id, po.order_line)
        self.assertEqual(bill_line.product_uom_id, self.uom_dozen)
        self.assertAlmostEqual(bill_line.quantity, 10)
        self.assertAlmostEqual(bill_line.price_unit, 6.00)
        self.assertAlmostEqual(bill.amount_untaxed, 60.0)
        self.assertFalse(bill.k2k_qty_mismatch)
        self.assertFalse(bill.k2k_amount_mismatch)

    def test_a_quantity_that_is_no_whole_number_of_dozens_stays_in_units(self):
        # The vendor bills 100 of the 120 units: 8.33 Dozens would move the
        # amount, so the bill line keeps the vendor's unit (Odoo counts it
        # against the purchase line in Dozens all the same).
        po = self._buyer_po([(self.buyer_gerbera, 10, 6.00)])
        self._validate_pickings(po.picking_ids)
        invoice = self._vendor_invoice(po.k2k_sale_order_id, post=False)
        invoice.invoice_line_ids.quantity = 100
        invoice.action_post()
        self._process()
        bill_line = self._bill_of(invoice).invoice_line_ids
        self.assertEqual(bill_line.purchase_line_id, po.order_line)
        self.assertEqual(bill_line.product_uom_id, self.uom_unit)
        self.assertAlmostEqual(bill_line.quantity, 100)
        self.assertAlmostEqual(bill_line.price_unit, 0.50)
        self.assertAlmostEqual(bill_line.move_id.amount_untaxed, 50.0)
        self.assertAlmostEqual(po.order_line.qty_invoiced, 100 / 12, delta=0.01)

    def test_a_price_the_vendors_unit_cannot_tell_is_no_change(self):
        # Agreed at 10.00 a dozen: the vendor's list prices it 0.83 a unit,
        # 9.96 a dozen, a difference its unit price cannot tell: the buyer
        # keeps its price, and the confirmation changes nothing.
        self._k2k_agree_prices({self.vendor_gerbera: 10.0 / 12})
        po, so = self._order([(self.buyer_gerbera, 10, 10.00)])
        line = self._line(so, self.vendor_gerbera)
        self.assertAlmostEqual(line.price_unit, 0.83)
        self.assertFalse(so.k2k_price_differs)
        so.action_confirm()
        self._process()
        self.assertEqual(po.k2k_vendor_state, "confirmed")
        self.assertAlmostEqual(self._line(po, self.buyer_gerbera).price_unit, 10.00)
        # A real change of price still reads as one: 0.75 a unit is 9.00.
        line.price_unit = 0.75
        self._process()
        self.assertAlmostEqual(self._line(po, self.buyer_gerbera).price_unit, 9.00)

    def test_an_unknown_unit_is_refused_naming_it(self):
        po = self._buyer_po([(self.buyer_gerbera, 10, 6.00)], confirm=False)
        payload = self.env["k2k.document.order"]._k2k_export_order(po, self.connection)
        payload["lines"][0]["uom"] = {
            "xml_id": False,
            "name": "Crate of 7",
            "category": "Unit",
            "ratio": 7.0,
        }
        envelope = build_envelope("order", new_uid(), 1, payload)
        with self.assertRaisesRegex(UserError, "Crate of 7"), self.cr.savepoint():
            apply_envelope(self.connection.sudo(), envelope)
        self.assertFalse(
            self.env["sale.order"].search([("client_order_ref", "=", po.name)])
        )

    def test_a_unit_of_its_own_is_mapped_by_name(self):
        """A unit a company made itself has no XML id of Odoo's: it travels
        by its name and size, as between two databases."""
        box = self.env["uom.uom"].create(
            {
                "name": "Box of 10",
                "category_id": self.uom_unit.category_id.id,
                "uom_type": "bigger",
                "factor_inv": 10,
            }
        )
        self.buyer_gerbera.uom_po_id = box
        _po, so = self._order([(self.buyer_gerbera, 3, 4.50)])
        told = self._last_payload("order")["lines"][0]["uom"]
        self.assertEqual((told["xml_id"], told["name"]), (False, "Box of 10"))
        self.assertEqual(told["ratio"], 10.0)
        line = self._line(so, self.vendor_gerbera)
        self.assertEqual(line.product_uom, self.uom_unit)
        self.assertAlmostEqual(line.product_uom_qty, 30)
        self.assertAlmostEqual(line.k2k_buyer_price_unit, 0.45)

    def test_a_line_without_unit_is_in_the_products_unit(self):
        """A partner on the older payload sends no unit: the quantity is in
        the receiving product's own unit, as before."""
        po = self._buyer_po([(self.buyer_rose, 100, 0.80)], confirm=False)
        payload = self.env["k2k.document.order"]._k2k_export_order(po, self.connection)
        del payload["lines"][0]["uom"]
        envelope = build_envelope("order", new_uid(), 1, payload)
        outcome = apply_envelope(self.connection.sudo(), envelope)
        self.assertEqual(outcome["outcome"], "applied", outcome.get("detail"))
        line = self._line(
            self.env["sale.order"].search([("client_order_ref", "=", po.name)]),
            self.vendor_rose,
        )
        self.assertEqual(line.product_uom, self.uom_unit)
        self.assertAlmostEqual(line.product_uom_qty, 100)

    # -- agreed prices -----------------------------------------------------

    def test_the_agreed_price_list_gives_the_buyers_price(self):
        self._agreed_pricelist(0.80)
        _po, so = self._order([(self.buyer_rose, 100, 0.80)])
        line = self._line(so, self.vendor_rose)
        self.assertAlmostEqual(line.price_unit, 0.80)
        self.assertAlmostEqual(line.k2k_buyer_price_unit, 0.80)
        self.assertFalse(line.k2k_price_differs)
        self.assertFalse(so.k2k_price_differs)

    def test_a_price_the_vendors_list_does_not_give_is_flagged(self):
        po, so = self._order(
            [(self.buyer_rose, 100, 0.80), (self.buyer_tulip, 50, 0.50)]
        )
        rose = self._line(so, self.vendor_rose)
        self.assertAlmostEqual(rose.price_unit, 1.20, msg="the vendor's own list")
        self.assertAlmostEqual(rose.k2k_buyer_price_unit, 0.80)
        self.assertTrue(rose.k2k_price_differs)
        self.assertFalse(self._line(so, self.vendor_tulip).k2k_price_differs)
        self.assertTrue(so.k2k_price_differs)
        self.assertEqual(
            self.env["sale.order"].search(
                [("id", "=", so.id), ("k2k_price_differs", "=", True)]
            ),
            so,
        )
        note = so.message_ids.filtered(lambda m: "Rose Freedom" in (m.body or ""))
        self.assertTrue(note, "the lines that differ are logged on the order")
        # Confirmed as it stands, the buyer's order does not take the higher
        # price by itself.
        so.action_confirm()
        self._process()
        self.assertAlmostEqual(self._line(po, self.buyer_rose).price_unit, 0.80)
        self.assertTrue(po.k2k_vendor_attention)
        # The vendor settles at the buyer's price: the flag goes.
        rose.price_unit = 0.80
        self.assertFalse(rose.k2k_price_differs)
        self.assertFalse(so.k2k_price_differs)

    def test_the_buyers_discount_is_shown_not_taken(self):
        self._agreed_pricelist(0.80)
        po = self._buyer_po([(self.buyer_rose, 100, 0.80)], confirm=False)
        po.order_line.discount = 100
        po.button_confirm()
        line = self._line(po.k2k_sale_order_id, self.vendor_rose)
        self.assertEqual(line.discount, 0, "the vendor's price list decides")
        self.assertEqual(line.k2k_buyer_discount, 100)
        self.assertTrue(line.k2k_price_differs)

    def test_a_quantity_cut_keeps_the_agreed_price(self):
        # A volume price: 0.80 from 100 roses, 1.20 below.
        self._agreed_pricelist(0.80, min_quantity=100)
        po, so = self._order([(self.buyer_rose, 100, 0.80)])
        so.action_confirm()
        self._process()
        line = self._line(so, self.vendor_rose)
        self.assertAlmostEqual(line.price_unit, 0.80)
        # In the form, as a person cuts it...
        with Form(so) as form, form.order_line.edit(0) as edited:
            edited.product_uom_qty = 80
            self.assertAlmostEqual(edited.price_unit, 0.80)
        self.assertAlmostEqual(line.price_unit, 0.80)
        # ... and by a write.
        line.write({"product_uom_qty": 60})
        self.assertAlmostEqual(line.price_unit, 0.80)
        self.assertFalse(line.k2k_price_differs)
        self._process()
        po_line = self._line(po, self.buyer_rose)
        self.assertAlmostEqual(po_line.product_qty, 60)
        self.assertAlmostEqual(po_line.price_unit, 0.80)
        self.assertFalse(po.k2k_vendor_attention, "a cut alone: applied")
        self.assertEqual(po_line.discount, 0)

    def test_a_unit_must_be_well_formed(self):
        po = self._buyer_po([(self.buyer_gerbera, 10, 6.00)], confirm=False)
        payload = self.env["k2k.document.order"]._k2k_export_order(po, self.connection)
        good = payload["lines"][0]["uom"]
        check_payload(build_envelope("order", new_uid(), 1, payload))
        for wrong in (
            dict(good, ratio=0),
            dict(good, ratio=-12),
            dict(good, ratio="12"),
            dict(good, name=""),
            dict(good, name="x" * 129),
            dict(good, category=None),
            dict(good, xml_id="base.user_admin"),
            "Dozens",
        ):
            payload["lines"][0]["uom"] = wrong
            with self.assertRaises(EnvelopeError):
                check_payload(build_envelope("order", new_uid(), 1, payload))
