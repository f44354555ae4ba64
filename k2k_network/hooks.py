# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

# Business records the demo data creates, and the K2K user who made the
# partners' documents: on uninstall they stay, as any company, partner or
# product would (a company with accounting cannot be deleted anyway). Only
# their link to this module goes.
K2K_KEPT_DEMO_MODELS = (
    "res.company",
    "res.partner",
    "res.users",
    "product.product",
    "product.template",
    "product.supplierinfo",
    "purchase.order",
    "sale.order",
    "website",
)


def uninstall_hook(env):
    env["ir.model.data"].search(
        [("module", "=", "k2k_network"), ("model", "in", K2K_KEPT_DEMO_MODELS)]
    ).unlink()
