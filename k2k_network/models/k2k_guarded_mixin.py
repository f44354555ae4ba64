# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models
from odoo.exceptions import AccessError


class K2KGuardedMixin(models.AbstractModel):
    """Business records whose K2K fields change through the addon's own code
    only, never by a direct ``write`` or ``create``: a view's ``readonly`` is
    a hint, and anything it shows can be written over RPC.

    The addon writes them as the superuser, at its boundaries (the outbox,
    the receiving endpoint) or in an action that checked its group first;
    administrators may still correct them."""

    _name = "k2k.guarded.mixin"
    _description = "K2K Fields Written by K2K Only"

    @api.model
    def _k2k_is_guarded_field(self, name):
        return name.startswith("k2k_") or name == "is_k2k_order"

    @api.model
    def _k2k_may_write_guarded_fields(self):
        return self.env.su or self.env.is_system()

    @api.model
    def _k2k_check_guarded_fields(self, vals_list):
        if self._k2k_may_write_guarded_fields():
            return
        touched = {
            name
            for vals in vals_list
            for name in vals
            if self._k2k_is_guarded_field(name) and name in self._fields
        }
        if touched:
            raise AccessError(
                self.env._(
                    "%(fields)s (%(model)s) change only through the K2K "
                    "Network's own actions.",
                    fields=", ".join(sorted(self._fields[n].string for n in touched)),
                    model=self._description,
                )
            )

    @api.model
    def _k2k_without_guarded_defaults(self):
        """``self`` without the context's defaults of guarded fields, for a
        user who may not write them: a ``default_k2k_...`` key (from an
        action, a link, an RPC call) would otherwise set what the values
        passed in may not. The addon's own code creates as the superuser,
        or gives the values themselves."""
        if self._k2k_may_write_guarded_fields():
            return self
        context = {
            key: value
            for key, value in self.env.context.items()
            if not (
                key.startswith("default_")
                and self._k2k_is_guarded_field(key.removeprefix("default_"))
            )
        }
        if len(context) == len(self.env.context):
            return self
        # A whole context: keys are removed, which keywords cannot do.
        return self.with_context(context)  # pylint: disable=context-overridden

    @api.model_create_multi
    def create(self, vals_list):
        self._k2k_check_guarded_fields(vals_list)
        return super(K2KGuardedMixin, self._k2k_without_guarded_defaults()).create(
            vals_list
        )

    def write(self, vals):
        self._k2k_check_guarded_fields([vals])
        return super().write(vals)
