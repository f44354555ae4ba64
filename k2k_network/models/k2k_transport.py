# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class K2KTransport(models.AbstractModel):
    """What carries messages to the other side of their connections. The
    outbox hands each transport the due messages of its connections and
    records what it gives back; it never asks which transport it has.

    A transport is named after the connection's ``transport`` field:
    ``k2k.transport.<transport>``."""

    _name = "k2k.transport"
    _description = "K2K Transport"

    @api.model
    def _k2k_send(self, messages):
        """Carry ``messages`` (queued, of connections of this transport that
        carry them now, in the order they were queued) to the receivers;
        yield, as they are known, ``{message: result}``: the receiver's
        outcome, a ``K2KTransportError`` (no answer to trust: tried again
        later), or the error that failed it. The outbox records each before
        the transport goes on. A message never yielded stays queued, in its
        place, for a later run: its PDF was not made in time, its partner
        could not be reached before its turn, or a key change of its
        connection went before it."""
        raise NotImplementedError
