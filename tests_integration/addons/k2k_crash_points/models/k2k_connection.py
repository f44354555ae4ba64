# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from .. import crash_point


class K2KConnection(models.Model):
    _inherit = "k2k.connection"

    def _k2k_deliver_http(self, envelope):
        answer = super()._k2k_deliver_http(envelope)
        # The partner has applied and answered; the outcome is recorded in
        # the sender's transaction, which the scheduled action commits after
        # the batch: dying here loses it.
        if crash_point.reached(self.env, "vendor_answer"):
            crash_point.die()
        return answer

    def _k2k_finish_http_batch(self, request, count):
        # The same moment for messages that travel several to a request.
        answer = super()._k2k_finish_http_batch(request, count)
        if crash_point.reached(self.env, "vendor_answer"):
            crash_point.die()
        return answer
