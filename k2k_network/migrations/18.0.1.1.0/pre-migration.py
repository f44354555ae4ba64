# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.1.0: the outbox names documents generically, documents and lines
are named by references that mean nothing outside their connection, and two
misleading names changed. Existing documents keep their identifiers: their
next messages reuse them."""

from odoo.tools import sql


def _rename_connection_uid(cr):
    if sql.column_exists(cr, "k2k_connection", "remote_uid"):
        cr.execute(
            "ALTER TABLE k2k_connection "
            "DROP CONSTRAINT IF EXISTS k2k_connection_remote_uid_uniq"
        )
        cr.execute("DROP INDEX IF EXISTS k2k_connection__remote_uid_index")
        sql.rename_column(cr, "k2k_connection", "remote_uid", "connection_uid")


def _link_messages_to_documents(cr):
    """The four document columns of a message become one sent document and
    one received record (when the receiver is in this database)."""
    if not sql.column_exists(cr, "k2k_message", "vendor_move_id"):
        return
    for column, kind in (
        ("res_model", "varchar"),
        ("res_id", "int4"),
        ("partner_res_model", "varchar"),
        ("partner_res_id", "int4"),
        ("partner_reference", "varchar"),
    ):
        sql.create_column(cr, "k2k_message", column, kind)
    cr.execute(
        """
        UPDATE k2k_message SET
            res_model = CASE
                WHEN vendor_move_id IS NOT NULL THEN 'account.move'
                WHEN purchase_order_id IS NOT NULL THEN 'purchase.order'
                WHEN message_type = 'status' THEN 'k2k.connection' END,
            res_id = COALESCE(
                vendor_move_id,
                purchase_order_id,
                CASE WHEN message_type = 'status' THEN connection_id END
            ),
            partner_res_model = CASE
                WHEN buyer_move_id IS NOT NULL THEN 'account.move'
                WHEN sale_order_id IS NOT NULL THEN 'sale.order' END,
            partner_res_id = COALESCE(buyer_move_id, sale_order_id)
        """
    )
    cr.execute(
        "UPDATE k2k_message SET message_type = 'invoice_cancel' "
        "WHERE message_type = 'cancel'"
    )
    # Payloads not sent yet are built again in today's form when they go.
    cr.execute(
        "UPDATE k2k_message SET payload = NULL "
        "WHERE state IN ('queued', 'waiting') AND message_type IN ('invoice', 'order')"
    )


def _name_partner_documents(cr):
    """What the receiver calls its document: the K2K order's name, here or
    as the vendor in another database answered it."""
    if not sql.column_exists(cr, "k2k_message", "sale_order_id"):
        return
    cr.execute(
        """
        UPDATE k2k_message m SET partner_reference = so.name
          FROM sale_order so WHERE so.id = m.sale_order_id
        """
    )
    cr.execute(
        """
        UPDATE k2k_message m SET partner_reference = po.k2k_sale_order_ref
          FROM purchase_order po
         WHERE po.id = m.purchase_order_id AND m.message_type = 'order'
           AND m.partner_reference IS NULL AND po.k2k_sale_order_ref IS NOT NULL
        """
    )


def _name_lines_by_reference(cr):
    """Lines were named by the buyer's record id: that id, as text, stays
    their reference on both sides (so that a partner in another database
    still names them the same)."""
    columns = sql.table_columns(cr, "sale_order_line")
    if columns.get("k2k_purchase_line_ref", {}).get("udt_name") == "int4":
        cr.execute(
            "ALTER TABLE sale_order_line ALTER COLUMN k2k_purchase_line_ref "
            "TYPE varchar USING NULLIF(k2k_purchase_line_ref, 0)::varchar"
        )
    if not sql.column_exists(cr, "purchase_order_line", "k2k_line_uid"):
        sql.create_column(cr, "purchase_order_line", "k2k_line_uid", "varchar")
        cr.execute(
            """
            UPDATE purchase_order_line l SET k2k_line_uid = l.id::varchar
              FROM purchase_order o
             WHERE o.id = l.order_id AND o.k2k_connection_id IS NOT NULL
            """
        )


def migrate(cr, version):
    if not version:
        return
    _rename_connection_uid(cr)
    _link_messages_to_documents(cr)
    _name_partner_documents(cr)
    _name_lines_by_reference(cr)
