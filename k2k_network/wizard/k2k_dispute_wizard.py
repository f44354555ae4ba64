# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class K2KDisputeWizard(models.TransientModel):
    """Dispute K2K bills with their vendor instead of approving them."""

    _name = "k2k.dispute.wizard"
    _description = "Dispute a K2K Bill with the Vendor"

    move_ids = fields.Many2many("account.move", string="Bills", required=True)
    reason = fields.Selection(
        selection=lambda self: self.env["account.move"]
        ._fields["k2k_dispute_reason"]
        ._description_selection(self.env),
        required=True,
    )
    note = fields.Char(
        string="Details",
        size=1000,
        help="What the vendor should know, e.g. 20 stems of 100 arrived broken.",
    )

    def action_dispute(self):
        self.ensure_one()
        self.move_ids._k2k_dispute(self.reason, self.note)
        return {"type": "ir.actions.act_window_close"}
