# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from .. import wire


class K2KDocumentStatus(models.AbstractModel):
    """A side's state and automation switches, told to a partner in another
    database (in one database each side reads the other's itself). The
    status also rides on every answer and on the handshake."""

    _name = "k2k.document.status"
    _inherit = "k2k.document"
    _description = "K2K Connection Status Adapter"

    @api.model
    def _k2k_get_message_types(self):
        return {
            **super()._k2k_get_message_types(),
            "status": self.env._("Connection Status"),
        }

    # -- export ------------------------------------------------------------

    @api.model
    def _k2k_get_message_name(self, message_type, record):
        return self.env._(
            "Status of %(company)s", company=record._get_local_company().name
        )

    @api.model
    def _k2k_describe_superseded(self):
        return self.env._("Superseded by a newer status.")

    @api.model
    def _k2k_get_sender(self, message_type, record):
        # The connection tells its own status.
        return record

    @api.model
    def _k2k_export_status(self, connection):
        """What this side tells the partner about itself."""
        company = connection._get_local_company()
        return {
            "state": connection.state,
            "company": company.name,
            "settings": company._k2k_get_automation_settings(),
        }

    @api.model
    def _k2k_export_status_now(self, connection):
        """The status with where this side stands now, for an answer."""
        status = self._k2k_export_status(connection)
        position = connection._k2k_get_position()
        if position:
            status["position"] = position
        return status

    # -- apply -------------------------------------------------------------

    @api.model
    def _k2k_apply(self, connection, envelope):
        """The partner's state and switches changed."""
        revision = envelope["revision"]
        if revision <= connection.remote_status_revision:
            return self._k2k_outcome(
                "superseded", self.env._("An older status: ignored.")
            )
        payload = envelope["payload"]
        connection.remote_status_revision = revision
        connection._k2k_follow_partner_state(
            payload.get("state"),
            payload.get("company") or connection.remote_company_name,
        )
        self._k2k_store_partner_status(connection, payload)
        return self._k2k_outcome("applied", self.env._("Partner status updated."))

    @api.model
    def _k2k_store_partner_status(self, connection, status):
        """Remember what the partner told about its switches; messages that
        waited for one of them to go on are queued again."""
        if not isinstance(status, dict) or not isinstance(status.get("settings"), dict):
            return
        settings = {
            key: bool(status["settings"].get(key)) for key in wire.AUTOMATION_KEYS
        }
        before = connection.remote_settings or {}
        vals = {}
        if settings != before:
            vals["remote_settings"] = settings
        company = status.get("company")
        company = wire.clean_text(company, 256) if isinstance(company, str) else None
        if company and company != connection.remote_company_name:
            vals["remote_company_name"] = company
        now = fields.Datetime.now()
        last = connection.remote_settings_date
        # Every answer carries the status: the connection's row is written
        # when it says something new, or once a minute, not per message.
        if vals or not last or (now - last).total_seconds() >= 60:
            connection.write(dict(vals, remote_settings_date=now))
        if any(value and not before.get(key) for key, value in settings.items()):
            connection._k2k_requeue_after_partner_change()
