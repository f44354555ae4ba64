# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import float_compare


class SaleOrderLine(models.Model):
    _name = "sale.order.line"
    _inherit = ["sale.order.line", "k2k.guarded.mixin"]

    k2k_purchase_line_ref = fields.Char(
        string="Buyer's Purchase Order Line",
        readonly=True,
        copy=False,
        help="Identifies the buyer's purchase order line this line sells.",
    )
    k2k_buyer_price_unit = fields.Float(
        string="Buyer's Price",
        digits="Product Price",
        readonly=True,
        copy=False,
        help="The unit price on the buyer's purchase order, in this line's unit.",
    )
    k2k_buyer_discount = fields.Float(
        string="Buyer's Discount (%)",
        digits="Discount",
        readonly=True,
        copy=False,
        help="The discount on the buyer's purchase order.",
    )
    k2k_price_differs = fields.Boolean(
        string="Price Differs from the Buyer's",
        compute="_compute_k2k_price_differs",
        store=True,
        help="The price or discount of this line is not the one on the buyer's "
        "purchase order: settle it with the buyer.",
    )

    @api.depends(
        "k2k_purchase_line_ref",
        "price_unit",
        "discount",
        "k2k_buyer_price_unit",
        "k2k_buyer_discount",
    )
    def _compute_k2k_price_differs(self):
        price_digits = self.env["decimal.precision"].precision_get("Product Price")
        discount_digits = self.env["decimal.precision"].precision_get("Discount")
        for line in self:
            line.k2k_price_differs = bool(line.k2k_purchase_line_ref) and bool(
                float_compare(
                    line.price_unit,
                    line.k2k_buyer_price_unit,
                    precision_digits=price_digits,
                )
                or float_compare(
                    line.discount,
                    line.k2k_buyer_discount,
                    precision_digits=discount_digits,
                )
            )

    def _k2k_get_agreed_lines(self):
        """The K2K lines whose price and discount are agreed: all but the
        ones being created (priced by the vendor's price list), unless a
        person asks for the prices to be updated."""
        if self.env.context.get("force_price_recomputation"):
            return self.browse()
        return self.filtered(lambda line: line.k2k_purchase_line_ref and line._origin)

    def _compute_price_unit(self):
        # A change of quantity never re-prices a K2K line by itself (Odoo
        # takes the buyer's price for a computed one): the buyer agreed to
        # this price, and only a person changes it.
        return super(
            SaleOrderLine, self - self._k2k_get_agreed_lines()
        )._compute_price_unit()

    def _compute_discount(self):
        return super(
            SaleOrderLine, self - self._k2k_get_agreed_lines()
        )._compute_discount()

    k2k_downpayment_ref = fields.Char(
        string="Buyer's Down Payment Line",
        readonly=True,
        copy=False,
        help="Identifies, for a down payment, the buyer's purchase order "
        "down-payment line it becomes, which the final invoice deducts.",
    )

    def write(self, vals):
        result = super().write(vals)
        if any(field in vals for field in self._k2k_get_answered_fields()):
            self.order_id.filtered(lambda o: o.state == "sale")._k2k_answer_buyer()
        return result

    def _k2k_get_answered_fields(self):
        """Fields of a confirmed K2K order's lines that the buyer hears of."""
        return ("product_uom_qty", "price_unit", "discount")
