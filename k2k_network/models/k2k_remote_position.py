# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .. import wire

_logger = logging.getLogger(__name__)


class K2KRemotePosition(models.AbstractModel):
    """Where the two sides of a connection in two databases stand with each
    other, so that a database restored from a backup heals the network by
    itself (see ``wire.POSITION_KEYS``). Mixed into ``k2k.connection``.

    As the receiving side, a connection numbers what it applies (its
    receipts, from a PostgreSQL sequence; each kept with its document in
    ``k2k.received``, which a restore takes back) and tells its position on
    every answer and request. As the sending side, it records on each message
    the receipt the partner gave it. A side told that the partner recorded
    receipts it no longer holds went back: it begins a new history, from the
    receipts it holds. A partner that began a new history, or whose receipts
    are below what was recorded, lost what it applied since: the documents
    go again, and it applies each once more (the adapters know a revision
    they already hold)."""

    _name = "k2k.remote.position"
    _description = "K2K Position Between Two Databases"

    history_uid = fields.Char(
        string="Our History",
        readonly=True,
        copy=False,
        help="Names this database's history with the partner: it changes when "
        "this database finds it went back to a backup.",
    )
    history_since = fields.Integer(
        string="Our History Began At",
        readonly=True,
        copy=False,
        help="The receipts this side held when its history began.",
    )
    history_since_seen = fields.Integer(
        readonly=True,
        copy=False,
        help="The highest receipt of the partner this side held when its "
        "history began: what the partner applied of it after that, this side "
        "sent after its backup.",
    )
    # The partner's history those receipts are of: told only while the
    # partner is still in it (after its own restore, they number nothing
    # it can compare).
    history_since_seen_in = fields.Char(readonly=True, copy=False)
    database_oid = fields.Char(
        string="Database Identity",
        readonly=True,
        copy=False,
        help="The PostgreSQL identity of the database this connection was last "
        "in: another one is a restored or copied database.",
    )
    check_seen = fields.Integer(
        readonly=True,
        copy=False,
        help="The highest receipt of the partner this side held when it found "
        "it has another identity: before anything it sends after the restore.",
    )
    history_date = fields.Datetime(
        string="Our History Began On", readonly=True, copy=False
    )
    partner_history_uid = fields.Char(
        string="Partner's History", readonly=True, copy=False
    )
    # The partner's history before its last restore: a position that names
    # it again comes from a transaction that began before (or a copy), and
    # is never followed back.
    partner_history_previous = fields.Char(readonly=True, copy=False)
    # A history of the partner told in a request, not heard from the
    # partner's address yet: asked there before anything it names is taken.
    partner_history_asked = fields.Char(readonly=True, copy=False)
    partner_history_asked_date = fields.Datetime(readonly=True, copy=False)
    partner_copy_history = fields.Char(
        string="History of the Partner's Copy",
        readonly=True,
        copy=False,
        help="A copy of the partner's database, running beside the one at its "
        "address, spoke under this history: its requests are refused.",
    )
    partner_copy_date = fields.Datetime(
        string="Partner's Copy Refused Since",
        readonly=True,
        copy=False,
    )
    partner_history_date = fields.Datetime(
        string="Partner's History Began On", readonly=True, copy=False
    )
    partner_restart_count = fields.Integer(
        string="Partner Restores",
        readonly=True,
        copy=False,
        help="How often the partner began a new history (it restored its "
        "database from a backup).",
    )
    position_check_pending = fields.Boolean(
        string="Checking Where Both Sides Stand",
        readonly=True,
        copy=False,
        help="This database has another identity than when it last spoke with "
        "the partner (restored, or copied): nothing but its status goes until "
        "the partner's answer tells whether it went back.",
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
        """The PostgreSQL sequence of this side's receipts: not a column,
        so that a partner's requests never wait for each other's row lock;
        not an ``ir.sequence``, which a user could reset."""
        self.ensure_one()
        return f"k2k_connection_receipts_{self.id}"

    def _k2k_take_receipt(self):
        """The number of the envelope this side just applied, or ``None``
        where positions are not kept."""
        if not self._k2k_takes_positions():
            return None
        name = self._k2k_get_receipt_sequence()
        self.env.cr.execute(
            SQL(
                "CREATE SEQUENCE IF NOT EXISTS %s; SELECT nextval(%s)",
                SQL.identifier(name),
                name,
            )
        )
        return self.env.cr.fetchone()[0]

    def _k2k_get_given_receipt(self):
        """The last receipt number taken, committed or not (the sequence
        is outside transactions): no receipt this side gave is above it."""
        self.env.cr.execute(
            SQL(
                "SELECT last_value FROM pg_sequences "
                "WHERE schemaname = current_schema() AND sequencename = %s",
                self._k2k_get_receipt_sequence(),
            )
        )
        row = self.env.cr.fetchone()
        return (row and row[0]) or 0

    def _k2k_get_receipts(self):
        """The highest receipt this side holds with its document: what a
        restore left, unlike the sequence, which a backup may take ahead of
        the data."""
        return self._k2k_get_highest_receipt("k2k.received", "receipt")

    def _k2k_get_position(self):
        """What this side tells the partner of where it stands, or ``None``."""
        if not self._k2k_takes_positions():
            return None
        if not self.history_uid:
            # Made with the connection; a connection older than positions
            # gets its own at its first exchange.
            self.sudo().history_uid = wire.new_uid()
        return wire.build_position(
            self.history_uid,
            self._k2k_get_receipts(),
            self.history_since,
            self._k2k_get_recorded_receipt(),
            self.partner_history_uid,
            self.history_since_seen
            if self.history_since_seen_in == self.partner_history_uid
            else None,
        )

    def _k2k_begin_new_history(self, found_here=False):
        """This database went back to a backup: what it received since, it
        holds no more. A new history, from the receipts it holds, tells the
        partner what to send again; it hears it at once. ``found_here``:
        this side found it by itself, in a database of another identity
        (not told by the partner), once."""
        # Not again within minutes when the partner tells it: a partner
        # telling it over and over would make this side begin history after
        # history.
        beginning = self.filtered(
            lambda c: found_here or not c._k2k_restarted_lately(c.history_date)
        )
        for connection in beginning:
            since = connection._k2k_get_receipts()
            connection.sudo().write(
                {
                    "history_uid": wire.new_uid(),
                    "history_since": since,
                    # What this side sent after the restore got receipts too:
                    # the point before it, where it has one.
                    "history_since_seen": connection.check_seen
                    if connection.position_check_pending
                    else connection._k2k_get_recorded_receipt(),
                    "position_verified_date": False,
                    "history_since_seen_in": connection.partner_history_uid,
                    "history_date": fields.Datetime.now(),
                    # Begun in this database: told by the partner before
                    # this side found its new identity, it is not found
                    # again (the partner would not follow two histories
                    # within minutes).
                    "database_oid": connection._k2k_get_database_oid(),
                }
            )
            _logger.warning(
                "K2K: %s went back to receipt %s: a new history begins",
                connection.display_name,
                since,
            )
            partner = connection.remote_company_name or connection.remote_url
            if found_here:
                note = self.env._(
                    "This database is not the one this connection was last in: "
                    "it was restored from a backup, moved or copied. %(partner)s "
                    "sends again whatever it received after the backup.",
                    partner=partner,
                )
            else:
                note = self.env._(
                    "This database holds less than %(partner)s sent it: it was "
                    "restored from a backup. %(partner)s sends again what was "
                    "received after the backup.",
                    partner=partner,
                )
            connection._message_log(body=note)
        beginning._k2k_notify_partner()

    @api.model
    def _k2k_get_database_oid(self):
        self.env.cr.execute(
            "SELECT oid FROM pg_database WHERE datname = current_database()"
        )
        return str(self.env.cr.fetchone()[0])

    @api.model
    def _k2k_check_database_identity(self):
        """A database restored from a dump, or copied, has another
        PostgreSQL identity (its oid) than the one its connections were
        last in: check with each of their partners at once whether it went
        back, rather than wait for the next exchange. Kept per connection,
        so that one made in this database (a copy's own, a test's) has
        nothing to check. A neutralized copy speaks to nobody."""
        if self._k2k_is_neutralized():
            return
        current = self._k2k_get_database_oid()
        connections = self.sudo().search(
            [
                ("transport", "=", "http"),
                ("state", "in", ("active", "suspended")),
                ("database_oid", "!=", current),
            ]
        )
        for connection in connections:
            connection.write(
                {
                    "database_oid": current,
                    "position_check_pending": True,
                    "check_seen": connection._k2k_get_recorded_receipt(),
                }
            )
        # A new history at once, lost or not: a copy started beside the
        # original must not speak under the original's, and a restore that
        # lost nothing costs the partner one comparison.
        connections._k2k_begin_new_history(found_here=True)

    def _k2k_hold_until_checked(self, messages):
        """Keep ``messages`` (of connections whose check is pending, not a
        status) from going in this run: sent before this side knows whether
        it went back, they would carry revisions the partner takes for ones
        it holds already."""
        when = fields.Datetime.now() + timedelta(minutes=1)
        messages.write(
            {
                "next_attempt_date": when,
                "state_detail": self.env._(
                    "Waits for the partner to tell where it stands: this database "
                    "was restored or copied."
                ),
            }
        )
        messages._k2k_trigger_processing(at=when)

    def _k2k_end_check(self):
        """The partner answered where it stands: what was held goes now."""
        self.sudo().position_check_pending = False
        held = (
            self.env["k2k.message"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", self.id),
                    ("state", "=", "queued"),
                    ("next_attempt_date", "!=", False),
                ]
            )
        )
        held.write({"next_attempt_date": False})
        held._k2k_trigger_processing()

    # -- the two sides, from what the partner tells ----------------------------

    def _k2k_get_recorded_receipt(self):
        """The highest receipt the partner gave a message of this side, as
        this transaction sees it."""
        return self._k2k_get_highest_receipt("k2k.message", "partner_receipt")

    def _k2k_get_highest_receipt(self, model, column):
        """The highest receipt in ``column`` of ``model``'s records of this
        connection (both have a partial index on it), 0 for none."""
        self.ensure_one()
        Model = self.env[model]
        Model.flush_model(["connection_id", column])
        self.env.cr.execute(
            SQL(
                "SELECT max(%s) FROM %s WHERE connection_id = %s AND %s > 0",
                SQL.identifier(column),
                SQL.identifier(Model._table),
                self.id,
                SQL.identifier(column),
            )
        )
        return self.env.cr.fetchone()[0] or 0

    def _k2k_check_told_position(self, position):
        """The partner's ``position``, told in its request: this side went
        back if the partner recorded receipts it no longer holds (the
        request left after those receipts were committed here, so this
        transaction sees them), and the partner began a new history if it
        names another."""
        self.ensure_one()
        position = wire.read_position(position)
        if position is None or not self._k2k_takes_positions():
            return
        if self._k2k_is_seen_of_ours(position) and (
            position["seen"] > self._k2k_get_receipts()
        ):
            self._k2k_begin_new_history()
        self._k2k_take_partner_history(position)

    def _k2k_check_told_history(self, position):
        """Refuse a request (``wire.Refused``) whose ``position`` names a
        history of the partner other than the one its address answers with:
        a restored partner's new one is asked at its address first (the
        refusal keeps the question: it is tried again meanwhile), and a copy
        of the partner's database running elsewhere is refused for good
        once the address denied its history."""
        self.ensure_one()
        position = wire.read_position(position)
        if position is None or not self._k2k_takes_positions():
            return
        history = position["history"]
        if not self.partner_history_uid or history == self.partner_history_uid:
            return
        partner = self.remote_company_name or self.remote_url
        if history == self.partner_copy_history:
            raise wire.Refused(
                409,
                wire.ERROR_COPIED_DATABASE,
                self.env._(
                    "This database is a copy of %(partner)s's, running beside "
                    "the one at %(url)s: nothing it sends is taken. Neutralize "
                    "it, or stop it.",
                    partner=partner,
                    url=self.remote_url,
                ),
            )
        asked_date = self.partner_history_asked_date
        if (
            history != self.partner_history_asked
            or not asked_date
            or fields.Datetime.now() - asked_date >= timedelta(minutes=1)
        ):
            # Asked again after a minute: an answer may have been lost.
            self.sudo().write(
                {
                    "partner_history_asked": history,
                    "partner_history_asked_date": fields.Datetime.now(),
                }
            )
            # The partner's request shows it is there: the question goes
            # now, even if deliveries to it were paused.
            self._k2k_note_reached()
            self._k2k_notify_partner()
        raise wire.Refused(
            409,
            wire.ERROR_HISTORY_UNCONFIRMED,
            self.env._(
                "This side asks %(url)s whether it was restored before it takes "
                "anything more: try again in a moment.",
                url=self.remote_url,
            ),
        )

    def _k2k_settle_asked_history(self, history, status_applied=False):
        """The partner's address answered under ``history``; return whether
        it confirmed a history asked about. A history told in a request and
        asked about is the partner's if it is that one. If the address still
        answers under the one known, the request came from a copy of the
        partner's database running elsewhere (a restored database is the
        one at the address, and the one restored over is gone): refused
        from now on, and shown.

        Only an answer that applied a status of this side says "no"
        (``status_applied``): applying it wrote the partner's connection
        row, so it waited for any transaction of the partner that began a
        new history and posted it before committing. And that answer came
        to a request posted after the question was committed: this
        transaction sees the question, so it began after, and posted after
        it began."""
        asked = self.partner_history_asked
        if not asked or history not in (asked, self.partner_history_uid):
            return False
        if history != asked and not status_applied:
            return False
        vals = {"partner_history_asked": False, "partner_history_asked_date": False}
        if history != asked:
            vals.update(
                partner_copy_history=asked, partner_copy_date=fields.Datetime.now()
            )
        self.sudo().write(vals)
        if history == asked:
            return True
        partner = self.remote_company_name or self.remote_url
        _logger.warning(
            "K2K: %s: a copy of the partner's database speaks under history %s: "
            "refused",
            self.display_name,
            asked,
        )
        self._message_log(
            body=self.env._(
                "A copy of %(partner)s's database, running beside the one at "
                "%(url)s, spoke as %(partner)s: nothing it sends is taken. Ask "
                "%(partner)s to stop that copy, or to neutralize it (as a copy "
                "for tests must be).",
                partner=partner,
                url=self.remote_url,
            )
        )
        return False

    def _k2k_is_seen_of_ours(self, position):
        """Whether the receipts the partner says it recorded are of this
        side's history as it stands (not of one it left already)."""
        return bool(self.history_uid) and position.get("seen_in") == self.history_uid

    def _k2k_check_answered_position(self, position, receipts=(), status_applied=False):
        """The partner's ``position`` and the ``receipts`` of the answer
        that carries them. This side went back if the partner recorded a
        receipt above any this side ever gave (the sequence: this
        transaction may not see receipts another one committed since it
        began). The partner went back if it began a new history, or if its
        receipts, or one it gives now, are at or below what was recorded
        here: receipts only grow."""
        self.ensure_one()
        if not self._k2k_takes_positions():
            return
        position = wire.read_position(position)
        if position is None:
            # A partner that tells none (an older version): nothing to wait
            # for.
            if self.position_check_pending:
                self._k2k_end_check()
            return
        confirmed = self._k2k_settle_asked_history(position["history"], status_applied)
        went_back = self._k2k_is_seen_of_ours(position) and (
            position["seen"] > self._k2k_get_given_receipt()
        )
        if self.position_check_pending and not went_back:
            # Found with another identity, this side sent nothing but its
            # status since: the partner applying more of it than it recorded
            # had it from this side after its backup.
            applied_before = min(receipts) - 1 if receipts else position["receipts"]
            went_back = applied_before > self._k2k_get_recorded_receipt()
        if went_back:
            self._k2k_begin_new_history()
        if self.position_check_pending:
            self._k2k_end_check()
        if self._k2k_take_partner_history(position, confirmed) or went_back:
            return
        lowest = min([position["receipts"], *(r - 1 for r in receipts)])
        if lowest < self._k2k_get_recorded_receipt():
            self._k2k_send_again_since(lowest)
            return
        now = fields.Datetime.now()
        last = self.position_verified_date
        if not last or (now - last).total_seconds() >= 60:
            # As the partner's status: at most once a minute, not per answer.
            self.sudo().position_verified_date = now

    def _k2k_take_partner_history(self, position, confirmed=False):
        """Follow the partner's history; return whether it began a new one,
        in which case what it lost goes again and its next revisions count
        as newer. ``confirmed``: its address answered under it after the
        partner's request named it, however soon after its last restore."""
        known = self.partner_history_uid
        if position["history"] == known:
            return False
        if known and (
            position["history"] == self.partner_history_previous
            or position.get("since", 0) > position["receipts"]
            or (not confirmed and self._k2k_restarted_lately(self.partner_history_date))
        ):
            # Not followed: a history left before, a position that cannot
            # be, or a partner that changes histories faster than anyone
            # restores a database (the next answer tells again).
            _logger.warning(
                "K2K: %s tells history %s, not followed",
                self.display_name,
                position["history"],
            )
            return True
        vals = {"partner_history_uid": position["history"]}
        if known:
            vals.update(
                partner_history_previous=known,
                partner_history_date=fields.Datetime.now(),
                # The partner numbers its statuses from its backup.
                remote_status_revision=0,
                partner_restart_count=self.partner_restart_count + 1,
            )
        self.sudo().write(vals)
        if not known:
            # The first position heard (a new connection, or one older than
            # positions): nothing to compare yet.
            return False
        if self._k2k_is_seen_of_ours(position) and "since_seen" in position:
            # What it recorded of this side's history as it stands when its
            # own began: what it applied after that, it sent after its
            # backup.
            self._k2k_take_partner_restart(position["since_seen"])
        self._k2k_send_again_since(position.get("since", 0))
        return True

    @api.model
    def _k2k_restarted_lately(self, when):
        """Whether a history began at ``when`` less than
        ``k2k_network.restart_minutes`` (10) ago: a side restores its
        database more seldom than that, a partner that says otherwise is
        not followed each time."""
        minutes = self.env["k2k.message"]._k2k_get_setting(
            "k2k_network.restart_minutes", 10
        )
        return bool(when) and fields.Datetime.now() - when < timedelta(minutes=minutes)

    def _k2k_take_partner_restart(self, seen):
        """The partner went back to a backup: it recorded receipts of this
        side up to ``seen`` only. Whatever it sent after, it numbers again
        from older revisions: those count as newer here, and each adapter
        tells what the partner may no longer hold."""
        self.ensure_one()
        restarted = (
            self.env["k2k.received"].sudo()._k2k_take_partner_restart(self, seen)
        )
        Document = self.env["k2k.document"]
        adapters = Document._k2k_get_adapters()
        for message_type, received in restarted.grouped("message_type").items():
            if message_type in adapters:
                Document._k2k_get_adapter(message_type)._k2k_on_partner_restarted(
                    self, received
                )

    def _k2k_send_again_since(self, receipt):
        """The partner lost what it applied after ``receipt``: each document
        it lost goes again (``k2k.message._k2k_get_lost_to_send``)."""
        self.ensure_one()
        Message = self.env["k2k.message"].sudo()
        lost = Message.search(
            [("connection_id", "=", self.id), ("partner_receipt", ">", receipt)]
        )
        if not lost:
            return
        lost.write({"partner_receipt": 0})
        again = lost._k2k_get_lost_to_send()
        again._k2k_send_again(
            self.env._(
                "Sent again: %(partner)s lost it when its database went back "
                "to a backup.",
                partner=self.remote_company_name,
            )
        )
        _logger.warning(
            "K2K: %s went back to receipt %s: %s messages sent again",
            self.display_name,
            receipt,
            len(again),
        )
        self._message_log(
            body=self.env._(
                "%(partner)s's database went back to a backup: the %(count)s "
                "documents it had received since are sent to it again.",
                partner=self.remote_company_name or self.remote_url,
                count=len(again),
            )
        )

    def action_k2k_partner_copy_stopped(self):
        """The partner stopped or neutralized its copy: the alert goes; the
        copy's history stays refused, should it start again."""
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(
                self.env._("Only an administrator can tell that the copy is stopped.")
            )
        self.partner_copy_date = False
        for connection in self:
            connection._message_log(
                body=self.env._(
                    "The partner's copy was told stopped: its history stays refused."
                )
            )

    # -- life of the connection ----------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("transport") == "http" and not vals.get("history_uid"):
                vals["history_uid"] = wire.new_uid()
            vals.setdefault("database_oid", self._k2k_get_database_oid())
        return super().create(vals_list)

    def unlink(self):
        sequences = [connection._k2k_get_receipt_sequence() for connection in self]
        result = super().unlink()
        for name in sequences:
            self.env.cr.execute(SQL("DROP SEQUENCE IF EXISTS %s", SQL.identifier(name)))
        return result
