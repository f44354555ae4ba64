# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "K2K Network",
    "summary": "Connect vendor and buyer companies: invoices arrive as vendor "
    "bills by themselves, web-shop purchases get purchase orders of their own",
    "version": "18.0.1.5.0",
    "category": "Inventory/Purchase",
    "website": "https://github.com/k2k-network/k2k_network",
    "author": "K2K Network contributors",
    "license": "LGPL-3",
    "application": True,
    "depends": [
        "purchase_stock",
        "sale_stock",
        "website_sale",
    ],
    "data": [
        "security/k2k_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "data/k2k_user_data.xml",
        "views/k2k_connection_views.xml",
        "views/k2k_message_views.xml",
        "views/k2k_request_views.xml",
        "wizard/k2k_invitation_wizard_views.xml",
        "wizard/k2k_dispute_wizard_views.xml",
        "views/account_move_views.xml",
        "views/purchase_order_views.xml",
        "views/stock_picking_views.xml",
        "views/sale_order_views.xml",
        "views/sale_order_return_views.xml",
        "views/res_config_settings_views.xml",
        "views/k2k_menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "k2k_network/static/tests/tours/*.js",
        ],
    },
    "uninstall_hook": "uninstall_hook",
    "demo": [
        "demo/k2k_demo.xml",
    ],
}
