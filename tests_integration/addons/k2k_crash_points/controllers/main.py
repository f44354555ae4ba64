# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import SUPERUSER_ID
from odoo.http import request

from odoo.addons.k2k_network.controllers.main import K2KController

from .. import crash_point


class K2KCrashController(K2KController):
    def _k2k_serve(self, handle):
        response = super()._k2k_serve(handle)
        env = request.env(user=SUPERUSER_ID, su=True)
        if crash_point.reached(env, "buyer_commit"):
            # Odoo commits the request's transaction after the handler
            # returns, then writes the answer: dying in a post-commit hook
            # keeps what the receiver applied and loses the answer.
            env.cr.postcommit.add(crash_point.die)
        elif crash_point.reached(env, "buyer_hold"):
            # The same moment, held open instead of ended: the test kills
            # the sender while this request's bills are committed and its
            # answer has not left.
            env.cr.postcommit.add(crash_point.hold)
        return response
