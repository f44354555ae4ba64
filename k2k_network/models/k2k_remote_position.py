# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models
from odoo.tools import SQL

from .. import wire

_logger = logging.getLogger(__name__)


class K2KRemotePosition(models.AbstractModel):
    """Where the two sides of a connection in two databases stand with each
    other, so that a database restored from a backup heals the network by
    itself (see ``wire.POSITION_KEYS``).

    As the receiving side, a connection numbers what it applies (its
    receipts, a PostgreSQL sequence: a restore takes it back with the rest
    of the database) and tells its position on every answer and status. As
    the sending side, it records on each message the receipt the partner
    gave it; a partner whose position is below what was recorded, or that
    began a new history, lost what it applied since: its documents are sent
    again, and it applies them once more, each exactly once (the adapters
    know a revision they already hold)."""

    _name = "k2k.remote.position"
    _description = "K2K Position Between Two Databases"

    history_uid = fields.Char(
        string="Our History",
        readonly=True,
        copy=False,
        help="Names this database's history with the partner: it changes when "
        "this database finds it was restored from a backup or copied.",
    )
    history_since = fields.Integer(
        string="Our History Began At",
        readonly=True,
        copy=False,
        help="The receipts this side had given when its history began.",
    )
    receipt_sequence_id = fields.Many2one(
        "ir.sequence",
        string="Receipts",
        readonly=True,
        copy=False,
        groups="base.group_system",
    )
    partner_history_uid = fields.Char(
        string="Partner's History", readonly=True, copy=False
    )
    position_verified_date = fields.Datetime(
        string="Both Sides Last Agreed On",
        readonly=True,
        copy=False,
        help="The last time the partner's answer showed it holds everything "
        "this side sent it.",
    )

    # -- the receiving side ----------------------------------------------------

    def _k2k_takes_positions(self):
        """Positions are between two databases: one database cannot be
        restored without the other."""
        self.ensure_one()
        return self.transport == "http"

    def _k2k_get_receipt_sequence(self):
        self.ensure_one()
        connection = self.sudo()
        if not connection.receipt_sequence_id:
            connection.receipt_sequence_id = (
                self.env["ir.sequence"]
                .sudo()
                .create(
                    {
                        "name": f"K2K receipts of connection {self.id}",
                        "implementation": "standard",
                        "company_id": False,
                    }
                )
            )
        return connection.receipt_sequence_id

    def _k2k_take_receipt(self):
        """The number of the envelope this side just applied, or ``None``
        where positions are not kept. A sequence, not a column: requests of
        one partner never wait for each other's row lock."""
        if not self._k2k_takes_positions():
            return None
        return int(self._k2k_get_receipt_sequence()._next())

    def _k2k_get_receipts(self):
        """The last receipt this side gave through the connection."""
        sequence = self.sudo().receipt_sequence_id
        if not sequence:
            return 0
        self.env.cr.execute(
            SQL(
                "SELECT last_value, is_called FROM %s",
                SQL.identifier(f"ir_sequence_{sequence.id:03d}"),
            )
        )
        last_value, is_called = self.env.cr.fetchone()
        return last_value if is_called else last_value - 1

    def _k2k_get_position(self):
        """What this side tells the partner of where it stands, or ``None``."""
        if not self._k2k_takes_positions():
            return None
        if not self.history_uid:
            self.sudo().history_uid = wire.new_uid()
        return wire.build_position(
            self.history_uid, self._k2k_get_receipts(), self.history_since
        )

    @api.model
    def _k2k_check_database_identity(self):
        """Begin a new history with every partner when this database is not
        the one that spoke before: a restore or a copy gives the database
        another PostgreSQL identity (its oid) than the one recorded. A
        neutralized copy speaks to nobody: it begins nothing."""
        if self._k2k_is_neutralized():
            return
        self.env.cr.execute(
            "SELECT oid FROM pg_database WHERE datname = current_database()"
        )
        current = str(self.env.cr.fetchone()[0])
        params = self.env["ir.config_parameter"].sudo()
        known = params.get_param("k2k_network.database_oid")
        if known == current:
            return
        params.set_param("k2k_network.database_oid", current)
        if known:
            self.sudo().search(
                [("transport", "=", "http"), ("state", "in", ("active", "suspended"))]
            )._k2k_begin_new_history()

    def _k2k_begin_new_history(self):
        """This database was restored or copied: tell each partner, whose
        answer (or its next request) shows what it holds that this side
        lost, and which sends again what this side lost of its own."""
        for connection in self:
            connection.write(
                {
                    "history_uid": wire.new_uid(),
                    "history_since": connection._k2k_get_receipts(),
                    "position_verified_date": False,
                }
            )
            connection._message_log(
                body=self.env._(
                    "This database is not the one that last spoke with "
                    "%(partner)s: it was restored from a backup, or copied. It "
                    "tells %(partner)s, which sends again what was received "
                    "after the backup.",
                    partner=connection.remote_company_name or connection.remote_url,
                )
            )
        self._k2k_notify_partner()

    # -- the sending side --------------------------------------------------------

    def _k2k_get_recorded_receipt(self):
        """The highest receipt the partner gave a message of this side, as
        this transaction sees it."""
        self.ensure_one()
        self.env["k2k.message"].flush_model(["connection_id", "partner_receipt"])
        self.env.cr.execute(
            SQL(
                "SELECT max(partner_receipt) FROM k2k_message WHERE connection_id = %s",
                self.id,
            )
        )
        return self.env.cr.fetchone()[0] or 0

    def _k2k_check_partner_position(self, position, receipts=(), compare_receipts=True):
        """Compare the partner's ``position`` (as it told it) and the
        ``receipts`` of the answer that carries it with what this side
        recorded; send again what the partner lost. Receipts only grow:
        one at or below a receipt recorded before, or a position below it,
        is a partner that went back (a restore that kept its history); a
        new history is a partner that found it was restored, from its
        ``since``. ``compare_receipts=False``: a position told in a request,
        which may be older than receipts recorded meanwhile; only its
        history counts."""
        self.ensure_one()
        position = wire.read_position(position)
        if position is None or not self._k2k_takes_positions():
            return
        known = self.partner_history_uid
        lost_since = None
        if known and position["history"] != known:
            lost_since = position.get("since", 0)
        elif known and compare_receipts:
            lowest = min([position["receipts"], *(r - 1 for r in receipts)])
            if lowest < self._k2k_get_recorded_receipt():
                lost_since = lowest
        vals = {}
        if position["history"] != known:
            vals["partner_history_uid"] = position["history"]
            if known:
                # The partner numbers its statuses from where it was restored.
                vals["remote_status_revision"] = 0
        now = fields.Datetime.now()
        last = self.position_verified_date
        if lost_since is None and (not last or (now - last).total_seconds() >= 60):
            # As the partner's status: at most once a minute, not per answer.
            vals["position_verified_date"] = now
        if vals:
            self.sudo().write(vals)
        if lost_since is not None:
            self._k2k_send_again_since(lost_since)

    def _k2k_send_again_since(self, receipt):
        """The partner lost what it applied after ``receipt``: queue again
        the newest message of each document it lost."""
        self.ensure_one()
        Message = self.env["k2k.message"].sudo()
        lost = Message.search(
            [("connection_id", "=", self.id), ("partner_receipt", ">", receipt)]
        )
        lost.write({"partner_receipt": 0})
        again = lost._k2k_get_newest_of_documents()
        again._k2k_send_again(
            self.env._(
                "Sent again: %(partner)s lost it when its database went back "
                "to an earlier point.",
                partner=self.remote_company_name,
            )
        )
        _logger.info(
            "K2K: %s went back to receipt %s: %s messages sent again",
            self.display_name,
            receipt,
            len(again),
        )
        self._message_log(
            body=self.env._(
                "%(partner)s's database went back to an earlier point (restored "
                "from a backup): the %(count)s documents it had received since "
                "are sent to it again.",
                partner=self.remote_company_name or self.remote_url,
                count=len(again),
            )
        )
