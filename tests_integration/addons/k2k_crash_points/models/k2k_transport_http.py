# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

from .. import crash_point


class K2KTransportHttp(models.AbstractModel):
    _inherit = "k2k.transport.http"

    @api.model
    def _k2k_deliver(self, connection, envelope):
        answer = super()._k2k_deliver(connection, envelope)
        # The partner has applied and answered; the outcome is recorded in
        # the sender's transaction, which the scheduled action commits after
        # the batch: dying here loses it.
        if crash_point.reached(self.env, "vendor_answer"):
            crash_point.die()
        return answer

    @api.model
    def _k2k_read_batch_answer(self, connection, request, envelopes):
        # The same moment for messages that travel several to a request.
        answer = super()._k2k_read_batch_answer(connection, request, envelopes)
        if crash_point.reached(self.env, "vendor_answer"):
            crash_point.die()
        return answer
