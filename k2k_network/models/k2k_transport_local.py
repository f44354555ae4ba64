# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class K2KTransportLocal(models.AbstractModel):
    """Messages to a partner of this database: the receiving company's
    inbox applies them at once, in the sender's transaction, each
    connection's messages as one batch (as a batch request from another
    database is)."""

    _name = "k2k.transport.local"
    _inherit = "k2k.transport"
    _description = "K2K Transport in This Database"

    @api.model
    def _k2k_send(self, messages):
        # Built all together: one wkhtmltopdf call for their invoices.
        held = messages._k2k_prepare_by_type()
        Inbox = self.env["k2k.inbox"]
        for connection, batch in (messages - held).grouped("connection_id").items():
            built = batch._k2k_build_envelopes()
            ready = batch.filtered(lambda m, built=built: isinstance(built[m], dict))
            results = {message: built[message] for message in batch - ready}
            applied = Inbox._k2k_apply_batch(connection, [built[m] for m in ready])
            results.update(zip(ready, applied, strict=True))
            yield results
