# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import math

from odoo import api, models, tools
from odoo.exceptions import UserError
from odoo.tools import frozendict

from .. import wire


class K2KDocument(models.AbstractModel):
    """What every document adapter offers, and which adapter serves which
    message type.

    An adapter (``k2k.document.invoice``, ``k2k.document.order``, ...) has
    an export side, which turns a business record into a payload, and an
    apply side, which turns a received envelope into a business record of
    the receiving company. Neither side knows how the envelope travels.
    """

    _name = "k2k.document"
    _description = "K2K Document Adapter"

    @api.model
    def _k2k_get_message_types(self):
        """The message types this adapter carries (the protocol's, in
        ``wire.MESSAGE_TYPES``), each with its name in the user's language.
        A new document kind is an adapter that declares its types here: the
        receiver routes them to it, and the synchronization log lists them
        under these names."""
        return {}

    @api.model
    @tools.ormcache()
    def _k2k_get_adapters(self):
        """Message type -> adapter model: the receiver's routing table, from
        what each adapter declares it carries (``_k2k_get_message_types``).
        Asked for every message queued (posting an invoice, too): read once
        per registry, which is built anew when an adapter comes or goes."""
        adapters = {}
        for name in self.env.registry.descendants(["k2k.document"], "_inherit"):
            for message_type in self.env[name]._k2k_get_message_types():
                adapters[message_type] = name
        return frozendict(adapters)

    @api.model
    @tools.ormcache("self.env.lang")
    def _k2k_get_message_type_selection(self):
        """``(type, name)`` of every message type the adapters carry, in the
        protocol's order and the user's language: the choices of a
        message's type. Read at every message written (Odoo checks the
        value against them): once per registry and language."""
        names = {}
        for model in set(self._k2k_get_adapters().values()):
            names.update(self.env[model]._k2k_get_message_types())
        return tuple(
            (type_, names[type_]) for type_ in wire.MESSAGE_TYPES if type_ in names
        )

    @api.model
    def _k2k_get_adapter(self, message_type):
        model = self._k2k_get_adapters().get(message_type)
        if not model:
            raise UserError(
                self.env._("Unknown K2K message type: %(type)s", type=message_type)
            )
        return self.env[model]

    # -- export side -------------------------------------------------------

    @api.model
    def _k2k_get_message_name(self, message_type, record):
        """How the synchronization log names a message about ``record``."""
        return record.display_name

    @api.model
    def _k2k_get_sender(self, message_type, record):
        """Who sends ``record`` in a ``message_type`` message: the company
        whose document it is."""
        return record.company_id

    @api.model
    def _k2k_on_enqueue(self, messages):
        """``messages`` were just queued (as the superuser): mark their
        documents as sent through their connection."""

    @api.model
    def _k2k_prepare_messages(self, messages):
        """Build the payloads the messages were queued without (they are all
        of this adapter's types), or mark the ones that no longer need to go
        as superseded. Called in one batch before sending. By default each
        payload is built from its document as the message leaves
        (``_k2k_export_payload``): several changes in a row make one
        message, which says the newest."""
        for message in messages.filtered(lambda m: not m.payload):
            record = self.env[message.res_model].browse(message.res_id)
            payload = self._k2k_export_payload(record)
            if payload is not None:
                message.payload = payload

    @api.model
    def _k2k_export_payload(self, record):
        """The payload of a message about ``record``; ``None`` when it has
        none to build (given when queued, or none at all)."""
        return None

    @api.model
    def _k2k_complete_envelope(self, message, envelope):
        """What is added to ``envelope`` as ``message`` leaves and is not
        kept in the log (a key)."""
        return envelope

    @api.model
    def _k2k_describe_superseded(self):
        return self.env._("Superseded by a newer message of the same document.")

    @api.model
    def _k2k_describe_prepare_error(self, error):
        return self.env._("Could not prepare the message: %(error)s", error=error)

    @api.model
    def _k2k_on_outcome(self, message, outcome):
        """The receiver's outcome of ``message`` is known (at once or later
        from the queue): tell the sent document."""

    @api.model
    def _k2k_on_partner_restarted(self, connection, received):
        """The partner of ``connection`` restored its database from a
        backup made before it sent the documents of ``received``
        (``k2k.received``, of this adapter's types, as applied here): it
        may hold older versions of them, or none."""

    @api.model
    def _k2k_on_send_again(self, messages):
        """``messages`` (of this adapter's types) go again: the partner lost
        what it made of them in a restore (``k2k.remote.position``)."""

    # -- apply side --------------------------------------------------------

    @api.model
    def _k2k_apply(self, connection, envelope):
        """Apply ``envelope`` received through ``connection`` in the
        receiving company; return the outcome ``{"outcome": ..., "detail":
        text, "reference": the receiver's name for its document, "record":
        its record}``. Raise ``UserError`` to refuse it."""
        Received = self.env["k2k.received"]
        uid = envelope["document_uid"]
        cancelled = Received._k2k_get_cancelled_revision(connection, uid)
        if cancelled and (
            envelope["revision"] <= cancelled or not self._k2k_can_reopen(envelope)
        ):
            if wire.is_cancellation(envelope["type"]):
                return self._k2k_outcome("applied", self.env._("Already cancelled."))
            # What the cancellation closed is late, and so is all that comes
            # after it when the document cannot be opened again.
            return self._k2k_outcome(
                "superseded",
                self.env._(
                    "The sender cancelled this document (revision %(revision)s): "
                    "this message is ignored.",
                    revision=cancelled,
                ),
            )
        if wire.is_cancellation(envelope["type"]):
            outcome = self._k2k_apply_cancel(connection, envelope)
            Received._k2k_remember_cancellation(connection, uid, envelope["revision"])
            return outcome
        return self._k2k_apply_document(connection, envelope)

    @api.model
    def _k2k_check_document_limits(self, record, envelope):
        """Refuse a further revision of ``record`` (this side's document of
        ``envelope``) past what one document may take from a partner: more
        revisions than ``k2k_network.max_revisions`` (100), or files beyond
        ``k2k_network.max_document_mb`` (50 MB) with those it has already.
        A partner that re-sends a document without end would otherwise
        grow it without end."""
        Message = self.env["k2k.message"]
        most = Message._k2k_get_setting("k2k_network.max_revisions", 100)
        if envelope["revision"] > most:
            raise UserError(
                self.env._(
                    "Revision %(revision)s is refused: one document takes at most "
                    "%(most)s revisions through K2K. Send a new document instead.",
                    revision=envelope["revision"],
                    most=most,
                )
            )
        megabytes = Message._k2k_get_setting("k2k_network.max_document_mb", 50)
        incoming = sum(
            len(doc.get("datas") or "") * 3 // 4
            for doc in envelope.get("attachments") or []
        )
        self.env["ir.attachment"].flush_model(
            ["res_model", "res_id", "file_size", "create_uid"]
        )
        self.env.cr.execute(
            tools.SQL(
                # The files K2K stored on it, not those its users added.
                "SELECT coalesce(sum(file_size), 0) FROM ir_attachment "
                "WHERE res_model = %s AND res_id = %s AND create_uid = %s",
                record._name,
                record.id,
                self.env["k2k.connection"]._k2k_get_user().id,
            )
        )
        stored = self.env.cr.fetchone()[0]
        if stored + incoming > megabytes * 1024 * 1024:
            raise UserError(
                self.env._(
                    "Revision %(revision)s is refused: with its files, this "
                    "document would hold more than %(most)s MB. Send a new "
                    "document instead.",
                    revision=envelope["revision"],
                    most=megabytes,
                )
            )

    @api.model
    def _k2k_can_reopen(self, envelope):
        """Whether ``envelope``, of a revision newer than the one its
        document was cancelled at, opens that document again (the sender
        reset it and sent it anew). By default not: whatever comes after a
        cancellation is late."""
        return False

    @api.model
    def _k2k_apply_document(self, connection, envelope):
        raise NotImplementedError

    @api.model
    def _k2k_apply_together(self, connection, envelopes):
        """Apply at once those of ``envelopes`` (``{index: envelope}``, of
        this adapter's types, checked, each the only one of its document in
        its batch) that gain from it; return ``{index: outcome}`` for them.
        The others are applied one by one (``_k2k_apply``), as are all of
        them when this raises. By default, none."""
        return {}

    @api.model
    def _k2k_apply_cancel(self, connection, envelope):
        raise NotImplementedError

    @api.model
    def _k2k_note_for_responsible(self, record, body, summary, responsible, note=None):
        """Log ``body`` in the chatter of ``record``, and give
        ``responsible`` (if any) a to-do about it, with ``note`` (else
        ``body``)."""
        record._message_log(body=body)
        if responsible:
            record.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=summary,
                note=note or body,
                user_id=responsible.id,
            )

    @api.model
    def _k2k_find_sent(self, connection, message_type, document_uid):
        """The record of this side sent through ``connection`` as
        ``document_uid`` (what a partner's answer about it names)."""
        sent = self.env["k2k.message"].search(
            [
                ("connection_id", "=", connection.id),
                ("message_type", "=", message_type),
                ("document_uid", "=", document_uid),
            ],
            limit=1,
        )
        if not sent.res_model:
            return self.env["k2k.message"].browse()
        return self.env[sent.res_model].browse(sent.res_id).exists()

    @api.model
    def _k2k_find_purchase_order(self, connection, order_uid):
        return self._k2k_find_sent(connection, "order", order_uid)

    @api.model
    def _k2k_find_received(self, model, connection, document_uid):
        """The record a document became on this side, among those received
        through ``connection`` only."""
        return self.env[model].search(
            [
                ("k2k_connection_id", "=", connection.id),
                ("k2k_document_uid", "=", document_uid),
            ],
            limit=1,
        )

    @api.model
    def _k2k_get_currency(self, code):
        """The currency a message names by its ISO code. An archived one is
        refused, not switched on: its rates are this database's business."""
        currency = self.env["res.currency"].browse(self._k2k_get_currency_id(code))
        if not currency:
            raise UserError(self.env._("Unknown currency %(code)s.", code=code))
        if not currency.active:
            raise UserError(
                self.env._(
                    "Currency %(code)s is not active here: activate it (with its "
                    "rates) to take documents in it.",
                    code=code,
                )
            )
        return currency

    @api.model
    @tools.ormcache("code")
    def _k2k_get_currency_id(self, code):
        # Cached: every message names its currency, and codes never move.
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", code)], limit=1)
        )
        return currency.id

    # -- units of measure --------------------------------------------------

    @api.model
    def _k2k_export_uom(self, uom):
        """A unit as it travels with a quantity (``False`` for none): two
        databases agree on it by its XML id in Odoo's ``uom`` module (the
        standard units have the same one everywhere), else by its English
        name in its category; its ratio (how many of the category's
        reference unit it holds) lets the receiver check that both mean the
        same quantity."""
        if not uom:
            return False
        uom = uom.with_context(lang="en_US")
        return {
            "xml_id": self._k2k_get_uom_xml_id(uom.id),
            "name": uom.name,
            "category": uom.category_id.name,
            # 12 significant digits: 1 / (1 / 12) is not quite 12.
            "ratio": float(f"{1 / uom.factor:.12g}"),
        }

    @api.model
    @tools.ormcache("uom_id")
    def _k2k_get_uom_xml_id(self, uom_id):
        # Cached: every line names its unit, and the uom module's XML ids
        # only move with a module update (which clears the caches).
        data = (
            self.env["ir.model.data"]
            .sudo()
            .search(
                [
                    ("model", "=", "uom.uom"),
                    ("res_id", "=", uom_id),
                    ("module", "=", "uom"),
                ],
                limit=1,
            )
        )
        return data.complete_name or False

    @api.model
    def _k2k_get_uom(self, told, own_uom, product):
        """This side's unit for the unit ``told`` as the partner sent it (see
        ``_k2k_export_uom``), in the category of ``own_uom`` (the unit the
        receiving line is in): by its XML id, else by its exact name. A
        partner on the older payload sends none: the quantity is in
        ``own_uom``, as before. Refuse a unit that cannot be mapped, or
        that holds another quantity here, naming it."""
        if not told:
            return own_uom
        Uom = self.env["uom.uom"].with_context(lang="en_US", active_test=False)
        uom = Uom
        if told.get("xml_id"):
            uom = self.env.ref(told["xml_id"], raise_if_not_found=False) or Uom
            if uom._name != "uom.uom":
                uom = Uom
        if not uom:
            uom = Uom.search(
                [
                    ("name", "=", told["name"]),
                    ("category_id", "=", own_uom.category_id.id),
                ],
                limit=2,
            )
            uom = uom if len(uom) == 1 else Uom
        if (
            uom
            and uom.category_id == own_uom.category_id
            and math.isclose(1 / uom.factor, told["ratio"], rel_tol=1e-6)
        ):
            return uom
        raise UserError(
            self.env._(
                "Unknown unit of measure %(unit)s (%(category)s, %(ratio)s of its "
                "reference unit) for %(product)s: this company has no unit of that "
                "name and size in the category of %(own)s.",
                unit=told["name"],
                category=told["category"],
                ratio=told["ratio"],
                product=product.display_name,
                own=own_uom.name,
            )
        )

    @api.model
    def _k2k_convert_to_uom(self, told, uom, product, quantity_keys=("quantity",)):
        """``told`` (a line as the partner sent it) with its quantities and
        its price in ``uom``: the price is per the unit it travels in, and
        converts with the quantity."""
        told_uom = self._k2k_get_uom(told.get("uom"), uom, product)
        if told_uom == uom:
            return told
        converted = dict(told, uom=False)
        for key in quantity_keys:
            if key in told:
                converted[key] = told_uom._compute_quantity(
                    told[key], uom, rounding_method="HALF-UP"
                )
        if "price_unit" in told:
            converted["price_unit"] = told_uom._compute_price(told["price_unit"], uom)
        return converted

    @api.model
    def _k2k_outcome(self, outcome, detail, record=None, reference=None):
        result = {"outcome": outcome, "detail": detail}
        if record:
            result["record"] = record
        if reference:
            result["reference"] = reference
        return result
