# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from collections import Counter

from psycopg2 import OperationalError

from odoo import api, models
from odoo.exceptions import UserError, ValidationError

from .. import wire

_logger = logging.getLogger(__name__)


class K2KInbox(models.AbstractModel):
    """Where the envelopes a partner sends are applied, whichever transport
    brought them: the endpoint (a partner in another database) and the
    transport of this database call the same entry point,
    ``_k2k_apply_batch``. Each envelope is checked once here (protocol,
    connection state, values), then routed to its adapter, which applies it
    in the receiving company."""

    _name = "k2k.inbox"
    _description = "K2K Inbox"

    @api.model
    def _k2k_apply_batch(self, connection, envelopes, raise_errors=False):
        """Apply ``envelopes`` received through ``connection``, in their
        order; return one result per envelope: the receiver's outcome (see
        ``k2k.document._k2k_apply``), or the error that refused it
        (``wire.Refused``, ``UserError``, ``wire.EnvelopeError``...), its
        part rolled back.

        Each envelope is checked once: its form (``wire.check_envelope``)
        for them all first, then, when its group's turn comes, what depends
        on the connection as it stands then and its values
        (``_k2k_check_now``). See ``_k2k_get_groups`` for the envelopes
        applied together.

        ``raise_errors``: an error that is not a refusal (a conflict with
        another transaction, a fault) is raised rather than returned, as a
        request wants it: Odoo runs a request again after a conflict."""
        checked = self._k2k_shift_revisions(
            connection, [self._k2k_check_form(connection, e) for e in envelopes]
        )
        results = []
        for group in self._k2k_get_groups(checked):
            results += self._k2k_apply_group(connection, group, raise_errors)
        return results

    @api.model
    def _k2k_get_groups(self, checked):
        """``checked`` (envelopes, or the errors their form gave) cut, in
        order, into groups: consecutive envelopes of one type, each the only
        one of its document in the batch, are offered together to their
        adapter (``_k2k_apply_together``: new bills in one create); any
        other is a group of its own."""
        per_document = Counter(
            e["document_uid"] for e in checked if not isinstance(e, Exception)
        )
        groups = []
        open_type = None  # the type of the last group, while others may join it
        for envelope in checked:
            joins = (
                not isinstance(envelope, Exception)
                and per_document[envelope["document_uid"]] == 1
            )
            if joins and groups and open_type == envelope["type"]:
                groups[-1].append(envelope)
            else:
                groups.append([envelope])
            open_type = envelope["type"] if joins else None
        return groups

    @api.model
    def _k2k_apply_group(self, connection, group, raise_errors):
        """Check and apply the envelopes of ``group`` (see
        ``_k2k_get_groups``); return their results in order. Those that
        pass their checks go together where their adapter can, the others
        one by one, each in its own savepoint. The checks of a group of
        several run before any of it is applied, outside a savepoint: they
        only read."""
        if len(group) == 1:
            # Checked and applied in one savepoint: a check that meets a
            # database error (a lock timeout) fails this envelope only.
            return [self._k2k_apply_alone(connection, group[0], raise_errors, True)]
        # Several: envelopes only (an error of form is a group of its own).
        results = {}
        ready = {}
        for index, envelope in enumerate(group):
            try:
                self._k2k_check_now(connection, envelope)
            except Exception as error:  # noqa: BLE001 - returned, or raised again
                results[index] = self._k2k_error_result(error, raise_errors)
            else:
                ready[index] = envelope
        if len(ready) > 1:
            results.update(self._k2k_apply_together(connection, ready, raise_errors))
        for index, envelope in ready.items():
            if index not in results:
                results[index] = self._k2k_apply_alone(
                    connection, envelope, raise_errors
                )
        return [results[index] for index in range(len(group))]

    @api.model
    def _k2k_apply_together(self, connection, envelopes, raise_errors):
        """Offer ``envelopes`` (``{index: envelope}``, one type, checked) to
        their adapter's ``_k2k_apply_together``; return ``{index: outcome}``
        of those it applied. Its failure undoes its part only: they are
        applied one by one instead."""
        message_type = next(iter(envelopes.values()))["type"]
        receiver, adapter = self._k2k_get_receiver(connection, message_type)
        try:
            with self.env.cr.savepoint():
                applied = adapter._k2k_apply_together(receiver, envelopes)
                return {
                    index: self._k2k_with_receipt(connection, envelopes[index], outcome)
                    for index, outcome in applied.items()
                }
        except OperationalError:
            if raise_errors:
                raise
            _logger.info("K2K: a conflict applying %s messages together", message_type)
        except Exception:  # noqa: BLE001 - each goes alone instead, and meets its error there
            _logger.warning(
                "K2K: applying %s messages together failed, one by one instead",
                message_type,
                exc_info=True,
            )
        return {}

    @api.model
    def _k2k_apply_alone(self, connection, envelope, raise_errors, check=False):
        """Apply one envelope (checked first when ``check``) through its
        adapter, in the receiving company and its own savepoint; return its
        outcome, or the error that refused it (the adapter raises
        ``UserError`` to refuse), or the error its form gave."""
        if isinstance(envelope, Exception):
            return envelope
        try:
            with self.env.cr.savepoint():
                if check:
                    self._k2k_check_now(connection, envelope)
                receiver, adapter = self._k2k_get_receiver(connection, envelope["type"])
                outcome = adapter._k2k_apply(receiver, envelope)
                return self._k2k_with_receipt(connection, envelope, outcome)
        except Exception as error:  # noqa: BLE001 - returned, or raised again
            return self._k2k_error_result(error, raise_errors)

    @api.model
    def _k2k_with_receipt(self, connection, envelope, outcome):
        """``outcome`` of ``envelope`` with the receipt of what it changed
        here (see ``k2k.remote.position``): what a restore of this database
        would lose, the partner sends again."""
        if outcome.get("outcome") not in (wire.OUTCOME_APPLIED, wire.OUTCOME_DELIVERED):
            return outcome
        receipt = connection._k2k_take_receipt()
        if receipt is None:
            return outcome
        self.env["k2k.received"].sudo()._k2k_note_receipt(
            connection, envelope, receipt, outcome.get("record")
        )
        return dict(outcome, receipt=receipt)

    @api.model
    def _k2k_shift_revisions(self, connection, checked):
        """``checked`` with the revisions of the documents the partner
        numbers again since it restored its database raised above those
        applied here before (``k2k.received._k2k_take_partner_restart``)."""
        if not connection.partner_restart_count:
            return checked
        offsets = (
            self.env["k2k.received"]
            .sudo()
            ._k2k_get_revision_offsets(
                connection,
                {e["document_uid"] for e in checked if not isinstance(e, Exception)},
            )
        )
        return [
            dict(e, revision=e["revision"] + offsets[e["document_uid"]])
            if not isinstance(e, Exception) and e["document_uid"] in offsets
            else e
            for e in checked
        ]

    @api.model
    def _k2k_get_receiver(self, connection, message_type):
        """``(connection, adapter)`` as the company that receives
        ``message_type`` through ``connection`` acts on it
        (``k2k.connection._k2k_as_receiver``)."""
        company = connection._k2k_get_receiving_company(message_type)
        receiver = connection._k2k_as_receiver(company)
        return receiver, receiver.env["k2k.document"]._k2k_get_adapter(message_type)

    # -- checks --------------------------------------------------------------

    @api.model
    def _k2k_check_form(self, connection, envelope):
        """``envelope`` with its type in today's name, or the
        ``wire.EnvelopeError`` that refuses its form: malformed, another
        version, or a type this side does not receive."""
        try:
            return wire.check_envelope(envelope, connection._k2k_get_receiving_side())
        except wire.EnvelopeError as error:
            return error

    @api.model
    def _k2k_error_result(self, error, raise_errors):
        """``error``, raised checking or applying an envelope, as its result;
        raised again when ``raise_errors`` and it is no refusal (see
        ``_k2k_apply_batch``)."""
        if raise_errors and self._k2k_as_refusal(error) is None:
            raise error
        return error

    @api.model
    def _k2k_check_now(self, connection, envelope):
        """Raise ``wire.Refused`` or ``wire.EnvelopeError`` when
        ``envelope`` (of a checked form) may not be applied through
        ``connection`` as it stands, or carries a value out of its type or
        range."""
        env = connection.env
        if (
            envelope["type"] == "keys"
            and env.context.get("k2k_signed_with") == "previous"
            and not connection._k2k_is_repeated_key_change(envelope)
        ):
            # Signed with the key we are replacing, and not the change we
            # already took (sent again after a lost answer): the partner
            # changed keys at the same time as we did, or someone holds the
            # old key. Our new key is not given for it.
            raise wire.Refused(
                409,
                wire.ERROR_KEY_CHANGE_CROSSING,
                env._(
                    "Signed with a key being replaced: we are changing keys "
                    "ourselves. Try again once our change is done."
                ),
            )
        if connection.state == "draft":
            raise wire.Refused(
                409,
                wire.ERROR_NOT_ACTIVE,
                env._("The connection waits for its handshake."),
            )
        if connection.state == "suspended" and envelope["type"] != "status":
            raise wire.Refused(
                409, wire.ERROR_SUSPENDED, env._("The connection is suspended.")
            )
        wire.check_payload(envelope)

    @api.model
    def _k2k_as_refusal(self, error):
        """``error``, raised checking or applying an envelope, as the
        ``wire.Refused`` the partner is answered with; ``None`` when it is
        no refusal (a conflict, a fault)."""
        if isinstance(error, wire.Refused):
            return error
        if isinstance(error, UserError | ValidationError):
            return wire.Refused(422, wire.ERROR_REFUSED, error.args[0])
        if isinstance(error, wire.EnvelopeError):
            return wire.Refused(400, error.code, str(error))
        if isinstance(error, KeyError | TypeError | ValueError):
            return wire.Refused(
                400,
                wire.ERROR_MALFORMED_BODY,
                self.env._("The message lacks or garbles %(what)s.", what=error),
            )
        return None
