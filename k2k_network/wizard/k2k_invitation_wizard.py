# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import time
from datetime import UTC, datetime

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import wire


class K2KInvitationWizard(models.TransientModel):
    """Join a connection a partner in another database invited us to."""

    _name = "k2k.invitation.wizard"
    _description = "Join a K2K Connection with an Invitation Code"

    invitation_code = fields.Text(
        required=True, help="The code the partner created on its connection."
    )
    company_id = fields.Many2one(
        "res.company",
        string="Our Company",
        required=True,
        default=lambda self: self.env.company,
        domain=lambda self: [("id", "in", self.env.user.company_ids.ids)],
    )
    partner_company_name = fields.Char(
        string="Partner Company", compute="_compute_invitation", readonly=True
    )
    partner_role = fields.Selection(
        [("vendor", "Vendor"), ("buyer", "Buyer")],
        string="Partner Is the",
        compute="_compute_invitation",
        readonly=True,
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Partner as Contact",
        help="How the partner appears here: the supplier of your purchase "
        "orders when it is the vendor, the customer of your K2K orders when it "
        "is the buyer. Left empty, a company contact is created with its name.",
    )

    @api.depends("invitation_code")
    def _compute_invitation(self):
        for wizard in self:
            data = wire.decode_invitation(wizard.invitation_code) or {}
            wizard.partner_company_name = data.get("company", False)
            wizard.partner_role = data.get("role", False)

    def action_join(self):
        self.ensure_one()
        partner = self.partner_id
        if not partner and self.partner_company_name:
            partner = self.env["res.partner"].create(
                {"name": self.partner_company_name, "is_company": True}
            )
        connection = self._k2k_join(self.invitation_code, self.company_id, partner)
        return connection._get_records_action(name=self.env._("K2K Connection"))

    def _k2k_join(self, code, company, partner):
        """Join the connection a partner invited us to with ``code``: our
        user accepts for ``company``, the partner hears it at once."""
        data = wire.decode_invitation(code)
        if not data:
            raise UserError(self.env._("This is not a K2K invitation code."))
        if data["role"] not in ("vendor", "buyer"):
            raise UserError(self.env._("This invitation code names no known side."))
        if data["expires"] < time.time():
            raise UserError(
                self.env._(
                    "This invitation code expired on %(date)s (UTC): ask the "
                    "partner for a new one.",
                    date=fields.Datetime.to_string(
                        datetime.fromtimestamp(data["expires"], UTC).replace(
                            tzinfo=None
                        )
                    ),
                )
            )
        role = "buyer" if data["role"] == "vendor" else "vendor"
        self.env["k2k.connection"]._check_user_in_company(company)
        # Nothing stays here unless the partner took the handshake.
        with self.env.cr.savepoint():
            return self._k2k_join_partner(data, role, company, partner)

    def _k2k_join_partner(self, data, role, company, partner):
        connection = self.env["k2k.connection"].create(
            {
                "transport": "http",
                "local_role": role,
                f"{role}_company_id": company.id,
                f"{data['role']}_partner_id": partner.id,
                "remote_url": data["url"],
                "remote_database": data["database"],
                "remote_company_name": data["company"],
                "connection_uid": data["uid"],
                "invitation_secret": data["secret"],
                f"{role}_accepted_by_id": self.env.user.id,
                f"{role}_accepted_date": fields.Datetime.now(),
            }
        )
        answer = connection._k2k_send_handshake(data["company"])
        connection._k2k_partner_accepted(
            answer,
            self.env._(
                "%(user)s joined %(partner)s's invitation for %(company)s.",
                user=self.env.user.name,
                partner=data["company"],
                company=company.name,
            ),
        )
        # Our first message signed with the partner's key closes the
        # invitation there.
        connection._k2k_notify_partner()
        return connection
