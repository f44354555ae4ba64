# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class AccountPartialReconcile(models.Model):
    """A payment matched to a K2K bill, or unmatched from it, changes what
    the vendor is told: paid, partially paid, or booked again."""

    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        partials._k2k_get_moves()._k2k_queue_bill_status()
        return partials

    def unlink(self):
        moves = self._k2k_get_moves()
        result = super().unlink()
        moves.exists()._k2k_queue_bill_status()
        return result

    def _k2k_get_moves(self):
        return (self.debit_move_id | self.credit_move_id).move_id
