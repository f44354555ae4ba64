# Copyright 2026 K2K Network contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Several messages in one request: the receiver through Odoo's real HTTP
stack, the sender against a partner's server on a loopback port."""

import json
import threading
from http.server import ThreadingHTTPServer
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .. import http_client, wire
from .common import (
    K2KCommon,
    answer_is_signed,
    make_remote_buyer_connection,
    make_remote_vendor_connection,
    serve_in_background,
    signed_body,
)
from .partner_double import PartnerDouble

SECRET = wire.new_secret()


@tagged("post_install", "-at_install")
class TestK2KBatchEndpoint(HttpCase):
    def setUp(self):
        super().setUp()
        company = self.env["res.company"].create({"name": "K2K Batch Buyer"})
        self.secret = wire.new_secret()
        self.connection = make_remote_vendor_connection(
            self.env, company, "Batch Vendor", self.secret
        )

    def _post(self, envelopes, headers=None):
        body, signed = signed_body(
            self, self.connection, self.secret, wire.BATCH_PATH, {"messages": envelopes}
        )
        headers = headers or signed
        response = self.url_open(wire.BATCH_PATH, data=body, headers=headers)
        self.connection.invalidate_recordset()
        return response, headers

    def _status(self, revision):
        return wire.build_envelope(
            "status",
            "batch-status",
            revision,
            {"state": "active", "company": "Batch Vendor", "settings": {}},
        )

    def _requests(self):
        return self.env["k2k.request"].search(
            [("connection_id", "=", self.connection.id)]
        )

    def test_a_bad_message_leaves_the_others_applied(self):
        unknown_order = wire.build_envelope(
            "order_answer",
            "answer-doc",
            1,
            {
                "order_uid": "never-sent",
                "vendor_order": "S99999",
                "state": "confirmed",
                "lines": [],
            },
        )
        wrong_direction = wire.build_envelope("order", "order-doc", 1, {})
        malformed = dict(self._status(3), payload="not an object")
        response, _headers = self._post(
            [
                self._status(1),
                unknown_order,
                wrong_direction,
                self._status(2),
                malformed,
                "not an envelope",
                self._status(4),
            ]
        )
        self.assertEqual(response.status_code, 200, response.text)
        answer = response.json()
        self.assertTrue(answer["ok"])
        self.assertEqual(answer["status"]["state"], "active")
        outcomes = answer["outcomes"]
        self.assertEqual(
            [outcome["outcome"] for outcome in outcomes],
            ["applied", "refused", "refused", "applied", "refused", "refused"]
            + ["applied"],
        )
        self.assertEqual(outcomes[1]["error"], "refused")
        self.assertIn("S99999", outcomes[1]["reason"])
        self.assertEqual(outcomes[2]["error"], "wrong_direction")
        self.assertEqual(outcomes[4]["error"], "malformed_body")
        self.assertEqual(outcomes[5]["error"], "malformed_body")
        self.assertEqual(self.connection.remote_status_revision, 4)
        log = self._requests()
        self.assertEqual(len(log), 1, "one line for the batch")
        self.assertTrue(log.accepted)
        self.assertEqual(log.endpoint, wire.BATCH_PATH)
        self.assertIn("S99999", log.reason)

    def test_a_batch_above_the_maximum_is_refused(self):
        envelopes = [self._status(rev) for rev in range(1, wire.MAX_BATCH + 2)]
        response, _headers = self._post(envelopes)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"], "batch_too_large")
        self.assertEqual(self.connection.remote_status_revision, 0)
        response, _headers = self._post(envelopes[: wire.MAX_BATCH])
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(len(response.json()["outcomes"]), wire.MAX_BATCH)

    def test_a_replayed_batch_is_refused(self):
        envelopes = [self._status(1), self._status(2)]
        response, headers = self._post(envelopes)
        self.assertEqual(response.status_code, 200, response.text)
        response, _headers = self._post(envelopes, headers)
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["error"], "replayed_request")

    def test_the_answer_is_signed_for_the_batch_path(self):
        envelopes = [self._status(1)]
        response, headers = self._post(envelopes)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertTrue(
            answer_is_signed(
                self, self.connection, self.secret, wire.BATCH_PATH, headers, response
            )
        )


class _BatchPartner(PartnerDouble):
    """A partner's server that takes batches: it refuses the documents whose
    identifier starts with "bad" and applies the others."""

    received = None  # (path, number of envelopes) of each request
    # Set: the first ``held`` requests wait for ``release`` before they are
    # applied, and set ``arrived`` meanwhile.
    arrived = release = None
    held = 0
    takes_batches = True  # False: answers batches 404, as a partner before them
    short_answers = False  # True: one outcome too few in each batch's answer
    applied = None  # the document identifiers applied, in order

    def do_POST(self):  # noqa: N802 - the name http.server calls
        data = json.loads(self.read_body())
        if len(self.received) < self.held:
            self.arrived.set()
            self.release.wait(10)
            self.release.clear()
        if self.path == wire.BATCH_PATH and not self.takes_batches:
            self.received.append((self.path, len(data["messages"])))
            self.send_error(404)
            return
        if self.path == wire.BATCH_PATH:
            envelopes = data["messages"]
            self.received.append((self.path, len(envelopes)))
            outcomes = [self._slot(e) for e in envelopes]
            if self.short_answers:
                outcomes.pop()
            answer = {"ok": True, "outcomes": outcomes}
        else:
            envelopes = [data]
            self.received.append((self.path, 1))
            answer = self._slot(data)
        self.applied.extend(e["document_uid"] for e in envelopes)
        self.answer_signed(SECRET, answer)

    @staticmethod
    def _slot(envelope):
        if envelope["document_uid"].startswith("bad"):
            return wire.refused_outcome("refused", "no such product")
        if envelope["document_uid"].startswith("later"):
            return wire.refused_outcome(wire.ERROR_SUSPENDED, "suspended")
        return {
            "ok": True,
            "outcome": "applied",
            "detail": f"took {envelope['document_uid']}",
            "reference": envelope["document_uid"].upper(),
        }


@tagged("post_install", "-at_install")
class TestK2KBatchSender(K2KCommon):
    def _partner(self):
        handler = type("Handler", (_BatchPartner,), {"received": [], "applied": []})
        _server, url = serve_in_background(self, handler)
        return handler, url

    def _connection(self, url):
        return make_remote_buyer_connection(
            self.env, self.vendor_company, "Batch Buyer", url, SECRET
        )

    def _queue(self, connection, uids):
        return (
            self.env["k2k.message"]
            .sudo()
            .create(
                [
                    {
                        "name": uid,
                        "connection_id": connection.id,
                        "message_type": "status",
                        "document_uid": uid,
                        "revision": 1,
                        "res_model": "k2k.connection",
                        "res_id": connection.id,
                        "payload": {"state": "active", "settings": {}},
                    }
                    for uid in uids
                ]
            )
        )

    def test_25_messages_go_in_two_requests(self):
        handler, url = self._partner()
        connection = self._connection(url)
        uids = [f"doc{index:02d}" for index in range(25)]
        uids[3] = "bad03"
        uids[22] = "later22"
        messages = self._queue(connection, uids)
        messages._k2k_send()
        self.assertEqual(
            handler.received, [(wire.BATCH_PATH, 20), (wire.BATCH_PATH, 5)]
        )
        applied = messages.filtered(lambda m: m.state == "applied")
        self.assertEqual(len(applied), 23)
        for message in applied:
            self.assertEqual(message.state_detail, f"took {message.document_uid}")
            self.assertEqual(message.partner_reference, message.document_uid.upper())
            self.assertEqual(message.attempt_count, 1)
        bad = messages.filtered(lambda m: m.document_uid == "bad03")
        self.assertEqual(bad.state, "failed")
        self.assertIn("Refused by Batch Buyer: no such product", bad.error)
        later = messages.filtered(lambda m: m.document_uid == "later22")
        self.assertEqual(later.state, "waiting")

    def _watch_builds(self, handler, on_later_build):
        """Patch the building of messages: note the first build (its size,
        and whether a request had reached the partner then) and run
        ``on_later_build`` before each later one; return the notes."""
        Message = type(self.env["k2k.message"])
        prepare = Message._k2k_prepare_by_type
        built = []

        def watched(batch):
            if batch and not built:
                built.append((len(batch), handler.arrived.is_set()))
            elif batch:
                built.append((len(batch), *on_later_build()))
            return prepare(batch)

        self.enterContext(patch.object(Message, "_k2k_prepare_by_type", watched))
        return built

    @staticmethod
    def _hold_one(handler):
        """Wait for the partner to hold a request, then let it go on; return
        whether one came."""
        came = handler.arrived.wait(5)
        handler.arrived.clear()
        handler.release.set()
        return came

    def test_the_next_batch_is_built_while_the_partner_applies_the_last(self):
        # One batch a run: each is built while the one before is applied.
        self.env["ir.config_parameter"].sudo().set_param(
            "k2k_network.prepare_size", "20"
        )
        handler, url = self._partner()
        handler.arrived, handler.release = threading.Event(), threading.Event()
        handler.held = 2
        messages = self._queue(
            self._connection(url), [f"doc{index:02d}" for index in range(45)]
        )
        built = self._watch_builds(
            handler, lambda: (len(handler.received), self._hold_one(handler))
        )
        messages._k2k_send()
        # The second and the third batch were built while the partner held
        # the request before them, unanswered; the first, before anything.
        self.assertEqual(built, [(20, False), (20, 0, True), (5, 1, True)])
        self.assertEqual(
            handler.received,
            [(wire.BATCH_PATH, 20), (wire.BATCH_PATH, 20), (wire.BATCH_PATH, 5)],
        )
        self.assertEqual(set(messages.mapped("state")), {"applied"})

    def test_a_run_of_batches_goes_one_after_the_other_while_the_next_is_built(self):
        # The default run: three batches built together (one PDF run), then
        # posted in turn by the sending thread, while the next run is built.
        handler, url = self._partner()
        handler.arrived, handler.release = threading.Event(), threading.Event()
        handler.held = 2
        uids = [f"doc{index:02d}" for index in range(65)]
        messages = self._queue(self._connection(url), uids)
        built = self._watch_builds(
            handler, lambda: (self._hold_one(handler), self._hold_one(handler))
        )
        messages._k2k_send()
        # While the second run was built, the partner got the first request
        # of the first run and, once it answered, the second one.
        self.assertEqual(built, [(60, False), (5, True, True)])
        self.assertEqual(
            handler.received,
            [(wire.BATCH_PATH, 20)] * 3 + [(wire.BATCH_PATH, 5)],
        )
        self.assertEqual(handler.applied, uids)
        self.assertEqual(set(messages.mapped("state")), {"applied"})

    @staticmethod
    def _nobody_address():
        """An address of this machine where nobody listens."""
        closed = ThreadingHTTPServer(("127.0.0.1", 0), _BatchPartner)
        address = f"http://127.0.0.1:{closed.server_address[1]}"
        closed.server_close()
        return address

    def _one_message_each(self, urls, uids):
        """For each of ``urls``, a connection to a partner there with one
        queued message, of the matching one of ``uids``."""
        messages = self.env["k2k.message"]
        for url, uid in zip(urls, uids, strict=True):
            messages |= self._queue(self._connection(url), [uid])
        return messages

    def _count_builds(self, handler):
        """Note the size of each build of messages, and how many requests had
        reached the partner then."""
        Message = type(self.env["k2k.message"])
        prepare = Message._k2k_prepare_by_type
        built = []

        def counted(batch):
            if batch:
                built.append((len(batch), len(handler.received)))
            return prepare(batch)

        self.enterContext(patch.object(Message, "_k2k_prepare_by_type", counted))
        return built

    def test_the_one_message_of_each_partner_is_built_with_the_others(self):
        # Three partners with one message each: the three are built together
        # (one wkhtmltopdf call, were they invoices) before the first goes;
        # then each goes alone, as a message without a batch to share.
        handler, url = self._partner()
        uids = [f"one{index}" for index in range(3)]
        messages = self._one_message_each([url] * 3, uids)
        built = self._count_builds(handler)
        messages._k2k_send()
        self.assertEqual(built, [(3, 0)])
        self.assertEqual(handler.received, [(wire.MESSAGE_PATH, 1)] * 3)
        self.assertEqual(handler.applied, uids)
        self.assertEqual(set(messages.mapped("state")), {"applied"})

    @mute_logger("odoo.addons.k2k_network.models.k2k_transport_http")
    def test_a_partner_down_among_single_messages_holds_back_its_own_only(self):
        # Three partners with one message each, the second nowhere to be
        # found: the three are built together, the other two go.
        handler, url = self._partner()
        messages = self._one_message_each(
            [url, self._nobody_address(), url], ["one0", "one1", "one2"]
        )
        built = self._count_builds(handler)
        messages._k2k_send()
        self.assertEqual(built, [(3, 0)])
        self.assertEqual(handler.applied, ["one0", "one2"])
        self.assertEqual(messages.mapped("state"), ["applied", "queued", "applied"])
        self.assertEqual(messages[1].attempt_count, 1)

    def test_a_message_tried_before_is_built_on_its_own(self):
        # Three partners with one message each, the first's tried before (its
        # PDF might be one that cannot be made in time): the other two are
        # built together and go, then it is built alone.
        handler, url = self._partner()
        messages = self._one_message_each([url] * 3, ["tried", "fresh1", "fresh2"])
        messages[0].attempt_count = 1
        built = self._count_builds(handler)
        messages._k2k_send()
        self.assertEqual(built, [(2, 0), (1, 2)])
        self.assertEqual(handler.applied, ["fresh1", "fresh2", "tried"])
        self.assertEqual(set(messages.mapped("state")), {"applied"})

    def test_single_messages_among_batches_are_built_together(self):
        # Partners with 3, 1, 2 and 1 messages, queued in turn: the batches
        # of 3 and 2 are built together, then the two single messages.
        handler, url = self._partner()
        counts = {"a": 3, "b": 1, "c": 2, "d": 1}
        connections = {name: self._connection(url) for name in counts}
        messages = self.env["k2k.message"]
        for turn in range(3):
            for name, count in counts.items():
                if turn < count:
                    messages |= self._queue(connections[name], [f"{name}{turn}"])
        built = self._count_builds(handler)
        messages._k2k_send()
        self.assertEqual([size for size, _received in built], [5, 2])
        self.assertEqual(
            sorted(handler.received),
            sorted(
                [(wire.BATCH_PATH, 3), (wire.BATCH_PATH, 2)]
                + [(wire.MESSAGE_PATH, 1)] * 2
            ),
        )
        self.assertEqual(
            [uid for uid in handler.applied if uid.startswith("a")], ["a0", "a1", "a2"]
        )
        self.assertEqual(set(messages.mapped("state")), {"applied"})

    @mute_logger("odoo.addons.k2k_network.models.k2k_transport_http")
    def test_a_partner_without_batches_gets_a_run_one_by_one_in_order(self):
        # The first request of a run answered 404: the run's others are not
        # posted by the thread; each batch then goes one message at a time,
        # in the order queued.
        handler, url = self._partner()
        handler.takes_batches = False
        uids = [f"doc{index:02d}" for index in range(45)]
        messages = self._queue(self._connection(url), uids)
        messages._k2k_send()
        self.assertEqual(
            handler.received,
            [(wire.BATCH_PATH, 20)]
            + [(wire.MESSAGE_PATH, 1)] * 20
            + [(wire.BATCH_PATH, 20)]
            + [(wire.MESSAGE_PATH, 1)] * 20
            + [(wire.BATCH_PATH, 5)]
            + [(wire.MESSAGE_PATH, 1)] * 5,
        )
        self.assertEqual(handler.applied, uids)
        self.assertEqual(set(messages.mapped("state")), {"applied"})

    @mute_logger("odoo.addons.k2k_network.models.k2k_transport_http")
    def test_a_partner_down_in_a_run_holds_back_its_own_batches_only(self):
        # One run, two partners: the first one's first request finds nobody;
        # its later batch stays queued, the other partner gets all of its own.
        down = self._connection(self._nobody_address())
        handler, url = self._partner()
        up = self._connection(url)
        down_messages = self._queue(down, [f"down{index:02d}" for index in range(25)])
        up_messages = self._queue(up, [f"up{index:02d}" for index in range(25)])
        (down_messages | up_messages)._k2k_send()
        self.assertEqual(
            handler.received, [(wire.BATCH_PATH, 20), (wire.BATCH_PATH, 5)]
        )
        self.assertEqual(set(up_messages.mapped("state")), {"applied"})
        self.assertEqual(set(down_messages.mapped("state")), {"queued"})
        self.assertEqual(set(down_messages[:20].mapped("attempt_count")), {1})
        self.assertEqual(set(down_messages[20:].mapped("attempt_count")), {0})

    @mute_logger("odoo.addons.k2k_network.models.k2k_transport_http")
    def test_an_answer_that_is_no_batch_answer_ends_the_run_for_its_partner(self):
        # Answered 200, but with an outcome missing: no answer to trust. The
        # run's later batches to that partner are not posted; all wait.
        handler, url = self._partner()
        handler.short_answers = True
        messages = self._queue(
            self._connection(url), [f"doc{index:02d}" for index in range(45)]
        )
        messages._k2k_send()
        self.assertEqual(handler.received, [(wire.BATCH_PATH, 20)])
        self.assertEqual(set(messages.mapped("state")), {"queued"})
        self.assertEqual(set(messages[:20].mapped("attempt_count")), {1})
        self.assertEqual(set(messages[20:].mapped("attempt_count")), {0})

    def test_a_request_cancelled_before_its_turn_is_not_posted(self):
        # What a send that stops halfway does with the rest of its run.
        handler, url = self._partner()
        handler.arrived, handler.release = threading.Event(), threading.Event()
        handler.held = 1
        connection = self._connection(url)
        envelopes = [{"document_uid": "first"}], [{"document_uid": "second"}]
        first, second = self.env["k2k.transport.http"]._k2k_start_batches(
            [(connection, batch) for batch in envelopes]
        )
        self.assertTrue(handler.arrived.wait(5), "the first request came")
        self.assertTrue(second.cancel())
        handler.release.set()
        self.assertEqual(first.result(timeout=5)[0], 200)
        self.assertTrue(second.cancelled())
        self.assertEqual(handler.received, [(wire.BATCH_PATH, 1)])

    def test_every_request_of_a_series_is_resolved(self):
        # The first call cannot be made (no https, not this machine): it
        # fails, the later one of its partner is not posted, and another
        # partner's call still goes.
        handler, url = self._partner()
        args = self.env["k2k.transport.http"]._k2k_batch_post_args(
            self._connection(url), [{"document_uid": "other"}]
        )
        bad = ("http://erp.example.com", *args[1:])
        futures = http_client.post_signed_one_after_another(
            [bad, bad, args], keys=["a", "a", "b"]
        )
        self.assertIsInstance(
            futures[0].exception(timeout=5), http_client.K2KTransportError
        )
        self.assertIsInstance(futures[1].exception(timeout=5), http_client.K2KNotPosted)
        self.assertEqual(futures[2].result(timeout=5)[0], 200)
        self.assertEqual(handler.received, [(wire.BATCH_PATH, 1)])

    def test_the_places_left_in_a_batch_go_round_the_partners(self):
        # Queued partner by partner: the first one's messages are the oldest.
        connections = [self._connection("http://127.0.0.1:9") for _i in range(3)]
        for number, connection in enumerate(connections):
            self._queue(connection, [f"c{number}-{index}" for index in range(4)])
        Message = self.env["k2k.message"]
        favoured = set()
        for _call in range(30):
            # One each, and one place more: a second turn for one of them.
            taken = Message._k2k_take_due(4)
            self.assertEqual(set(taken.connection_id.ids), {c.id for c in connections})
            [twice] = [
                c
                for c in connections
                if len(taken.filtered(lambda m, c=c: m.connection_id == c)) == 2
            ]
            favoured.add(twice)
        self.assertEqual(len(favoured), 3, "each partner had the spare place in turn")

    def test_the_batch_size_is_a_setting(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "k2k_network.http_batch_size", "10"
        )
        handler, url = self._partner()
        messages = self._queue(
            self._connection(url), [f"doc{index}" for index in range(12)]
        )
        messages._k2k_send()
        self.assertEqual(
            handler.received, [(wire.BATCH_PATH, 10), (wire.BATCH_PATH, 2)]
        )
        self.assertEqual(set(messages.mapped("state")), {"applied"})

    def test_one_message_alone_takes_the_single_path(self):
        handler, url = self._partner()
        message = self._queue(self._connection(url), ["alone"])
        message._k2k_send()
        self.assertEqual(handler.received, [(wire.MESSAGE_PATH, 1)])
        self.assertEqual(message.state, "applied")

    @mute_logger(
        "odoo.addons.k2k_network.models.k2k_transport_http",
        "odoo.addons.k2k_network.models.k2k_message_delivery",
    )
    def test_a_message_that_cannot_be_built_fails_alone(self):
        handler, url = self._partner()
        connection = self._connection(url)
        messages = self._queue(connection, ["doc1", "doc2", "doc3"])
        # Written on it: another document, not the connection's. It fails,
        # the others go together.
        messages[1].write(
            {"res_model": "res.partner", "res_id": connection.buyer_partner_id.id}
        )
        messages._k2k_send()
        self.assertEqual(handler.received, [(wire.BATCH_PATH, 2)])
        self.assertEqual(messages.mapped("state"), ["applied", "failed", "applied"])

    @mute_logger("odoo.addons.k2k_network.models.k2k_transport_http")
    def test_a_transport_failure_postpones_them_all(self):
        connection = self._connection(self._nobody_address())
        messages = self._queue(connection, [f"doc{index}" for index in range(25)])
        messages._k2k_send()
        self.assertEqual(set(messages.mapped("state")), {"queued"})
        first = messages[:20]
        self.assertEqual(set(first.mapped("attempt_count")), {1})
        self.assertTrue(all(m.next_attempt_date for m in messages))
        self.assertTrue(all("Cannot reach Batch Buyer" in m.error for m in messages))
        self.assertTrue(all("Partner unreachable" in m.state_detail for m in messages))
        # Unreachable: the second batch was not tried in this run.
        self.assertEqual(set(messages[20:].mapped("attempt_count")), {0})
