# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models
from odoo.tools import SQL

# The context key that restricts the outbox's due messages to one connection
# (the one a job delivers).
CONNECTION_KEY = "k2k_queue_connection_id"


class K2KMessage(models.Model):
    """With queue_job, the outbox's scheduled action delivers nothing itself:
    it hands each connection that has due messages to a job of its own, and
    the jobs deliver (``k2k.connection._k2k_queue_deliver``)."""

    _inherit = "k2k.message"

    @api.model
    def _cron_process_messages(self, batch_size=None):
        # One pass, and a cheap one: the scheduler has nothing to commit
        # batch by batch, each job commits its own batch.
        self.env["k2k.connection"].sudo()._k2k_check_database_identity()
        self._k2k_queue_get_due_connections()._k2k_queue_delay_delivery()

    @api.model
    def _k2k_queue_get_due_connections(self):
        """The connections with messages due now (whatever job holds them:
        the job of a connection that already has one is not added twice)."""
        self.flush_model(["connection_id", "state", "next_attempt_date"])
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT connection_id FROM k2k_message WHERE %s "
                "ORDER BY connection_id",
                self._k2k_due_condition(),
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        return self.env["k2k.connection"].sudo().browse(ids)

    @api.model
    def _k2k_due_condition(self):
        condition = super()._k2k_due_condition()
        connection_id = self.env.context.get(CONNECTION_KEY)
        if connection_id:
            # A job takes (and counts) its own connection's messages only.
            condition = SQL("(%s) AND connection_id = %s", condition, connection_id)
        return condition

    @api.model
    def _k2k_queue_get_batch_size(self):
        """How many messages one job delivers: the scheduled action's batch,
        small enough for a job to end well within the workers' time limit."""
        return self._k2k_get_batch_size()
