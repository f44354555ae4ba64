# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.3.0: a K2K order keeps the buyer's price beside its own.

Before, a K2K order's lines were created at the buyer's price and discount,
so for the lines that exist the buyer's price is the line's own. The
columns are made and filled here, before the ORM would compute them: left
to it, every existing K2K line would read a buyer's price of 0 and be
flagged as differing."""

from odoo.tools import sql


def _keep_buyer_prices(cr):
    if sql.column_exists(cr, "sale_order_line", "k2k_buyer_price_unit"):
        return
    sql.create_column(cr, "sale_order_line", "k2k_buyer_price_unit", "numeric")
    sql.create_column(cr, "sale_order_line", "k2k_buyer_discount", "numeric")
    sql.create_column(cr, "sale_order_line", "k2k_price_differs", "boolean")
    sql.create_column(cr, "sale_order", "k2k_price_differs", "boolean")
    cr.execute(
        """
        UPDATE sale_order_line
           SET k2k_buyer_price_unit = price_unit,
               k2k_buyer_discount = discount,
               k2k_price_differs = FALSE
         WHERE k2k_purchase_line_ref IS NOT NULL
        """
    )
    cr.execute(
        """
        UPDATE sale_order SET k2k_price_differs = FALSE
         WHERE k2k_document_uid IS NOT NULL
        """
    )


def migrate(cr, version):
    if not version:
        return
    _keep_buyer_prices(cr)
