# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import models

from odoo.addons.queue_job.exception import RetryableJobError

from .k2k_message import CONNECTION_KEY

_logger = logging.getLogger(__name__)

# The first key of the PostgreSQL advisory lock a delivery job holds on its
# connection (the second is the connection's id): "K2KQ".
DELIVERY_LOCK_CLASS = 0x4B324B51
# Seconds a job waits before it tries again when another job still delivers
# its connection's messages.
BUSY_RETRY_SECONDS = 2


class K2KConnection(models.Model):
    _inherit = "k2k.connection"

    def _k2k_queue_identity_key(self):
        """One job waiting per connection: queuing more of its messages, or
        asking again while its job waits, adds no second job."""
        self.ensure_one()
        return f"k2k_network_queue_job.deliver.{self.id}"

    def _k2k_queue_delay_delivery(self):
        """Enqueue a delivery job for each connection of ``self``, unless one
        is already waiting to run."""
        for connection in self:
            connection.with_delay(
                identity_key=connection._k2k_queue_identity_key(),
                description=self.env._(
                    "K2K: deliver the queued messages of %(connection)s",
                    connection=connection.display_name,
                ),
            )._k2k_queue_deliver()

    def _k2k_queue_lock(self):
        """Hold this connection's delivery until the job's transaction ends;
        return False if another job holds it."""
        self.ensure_one()
        self.env.cr.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)",
            (DELIVERY_LOCK_CLASS, self.id),
        )
        return self.env.cr.fetchone()[0]

    def _k2k_queue_deliver(self):
        """The job: deliver one batch of this connection's due messages, in
        the order they were queued, with the outbox's own routine; then hand
        the rest to the next job. One transaction: a job killed halfway
        leaves its messages queued, and queue_job runs it again.

        queue_job's identity key keeps one job waiting per connection, not
        one running: a job that finds another one delivering the same
        connection steps back and tries again shortly (it must not end, the
        other one may not see the messages it came for), so that two workers
        never share a connection and its messages keep their order."""
        self.ensure_one()
        if not self._k2k_queue_lock():
            raise RetryableJobError(
                self.env._("Another job delivers this connection's messages."),
                seconds=BUSY_RETRY_SECONDS,
                ignore_retry=True,
            )
        Message = self.env["k2k.message"].sudo()
        batch_size = Message._k2k_queue_get_batch_size()
        own = Message.with_context(**{CONNECTION_KEY: self.id})
        messages = Message.browse(own._k2k_take_due(batch_size).ids)
        messages._k2k_send()
        remaining = own._k2k_count_due() if len(messages) == batch_size else 0
        if remaining:
            self._k2k_queue_delay_delivery()
        _logger.info(
            "K2K connection %s: %s message(s) delivered by a job, %s still due",
            self.id,
            len(messages),
            remaining,
        )
        return self.env._(
            "%(delivered)s message(s) delivered, %(remaining)s still due.",
            delivered=len(messages),
            remaining=remaining,
        )
