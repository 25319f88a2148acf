"""Notifications: a gate rejection, a recall, a dispute and a short receipt each tell the
organisation once, in its inbox and by its senders; each delivery is sent once however often
its job runs, retried while its sender fails, and handed off again when its message is lost.

The jobs run through Huey's own API (``tests.jobs.run_queued``) on the suite's broker; the
e-mail and SMS senders write to files, the webhook goes to a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from tests.api.test_custody_api import accept, dispute, reject, taken_at_gate
from tests.api.test_events_api import handover_code, post
from tests.committed import committed_database, producer_and_market
from tests.jobs import names, run_queued
from tests.notifyhelpers import outbox, receiver
from traceapp import create_app, db, sealed
from traceapp.certificates.models import Category
from traceapp.db import utcnow
from traceapp.notify import rules, tasks
from traceapp.notify.models import Channel, Delivery, DeliveryStatus, Notification, NotificationKind
from traceapp.notify.services import DELIVER_TASK
from traceapp.orgs import services as orgs
from traceapp.orgs.models import OrgKind


@pytest.fixture()
def outboxes(app, tmp_path):
    """E-mail and SMS go to files (as ``file://`` settings send them)."""
    mail, sms = tmp_path / "mail.jsonl", tmp_path / "sms.jsonl"
    app.config["NOTIFY_EMAIL_URL"] = f"file://{mail}"
    app.config["NOTIFY_SMS_URL"] = f"file://{sms}"
    app.config["NOTIFY_WEBHOOK_ALLOW_PRIVATE"] = True  # the test receivers listen on 127.0.0.1
    return mail, sms


@pytest.fixture()
def world(make):
    """A producer holding 100 kg, two markets, a carrier and a regulator (all in 420116)."""
    producer = make.member()
    market, other = make.member(OrgKind.MARKET), make.member(OrgKind.MARKET)
    carrier, regulator = make.member(OrgKind.CARRIER), make.member(OrgKind.REGULATOR)
    certificate = make.certificate(producer, quantity=Decimal("100"), category=Category.VEGETABLE)
    return producer, market, other, carrier, regulator, certificate


def inbox(dbsession, org, kind=None):
    dbsession.expire_all()
    query = sa.select(Notification).where(Notification.org_id == org.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return list(dbsession.scalars(query))


def deliveries(dbsession, org):
    dbsession.expire_all()
    return list(
        dbsession.scalars(
            sa.select(Delivery)
            .join(Notification)
            .where(Notification.org_id == org.id)
            .order_by(Delivery.channel)
        )
    )


def contacts(app, dbsession, member, **values):
    with app.test_request_context():
        keys = sealed.app_keys(app.config)
        _org, secret = orgs.set_contacts(dbsession, org_id=member.org.id, **values, keys=keys)
        dbsession.commit()
    return secret


def rejected_by_verdict(client, world):
    producer, market, _other, _carrier, _regulator, certificate = world
    response = reject(client, market, certificate, handover_code=handover_code(client, producer, certificate))
    assert response.status_code == 201, response.json
    return response.json


# -- each cause tells once ----------------------------------------------------------------------


def test_a_gate_rejection_tells_the_issuer_in_its_inbox_and_by_email(client, world, dbsession, app, outboxes):
    producer, market, *_rest = world
    event = rejected_by_verdict(client, world)
    (told,) = inbox(dbsession, producer.org)
    assert told.kind is NotificationKind.REJECTED and told.subject_id == event["id"]
    assert told.trace_code == world[-1].trace_code
    assert told.facts["market"] == market.org.name and told.facts["tests"] == ["有机磷"]
    assert inbox(dbsession, market.org) == []  # the market that rejected it knows
    assert DELIVER_TASK in names(run_queued(app))
    (mail,) = [m for m in outbox(outboxes[0]) if m["to"] == producer.user.email]
    assert "入场查验被拒收" in mail["subject"] and "Rejected at a market gate" in mail["subject"]
    assert "有机磷" in mail["text"]


def test_a_rejection_by_a_market_that_never_had_the_batch_tells_nobody(client, world, dbsession):
    producer, _market, other, *_rest = world
    response = reject(client, other, world[-1])
    assert response.status_code == 201 and response.json["details"].get("claim")
    assert inbox(dbsession, producer.org) == []


def test_a_recall_tells_the_issuer_of_each_batch_once(client, world, dbsession):
    producer, _market, _other, _carrier, regulator, certificate = world
    body = {"trace_codes": [certificate.trace_code], "reason": "农残超标", "severity": "class_i"}
    response = client.post("/api/v1/recalls", json=body, headers=regulator.headers)
    assert response.status_code == 201, response.json
    (told,) = inbox(dbsession, producer.org)
    assert told.kind is NotificationKind.RECALLED and told.trace_code == certificate.trace_code
    assert told.facts["reason"] == "农残超标" and told.facts["by"] == regulator.org.name
    assert inbox(dbsession, regulator.org) == []


def test_a_recall_of_several_of_its_batches_tells_the_issuer_once_and_counts_them(client, world, make, app):
    from traceapp.notify import texts

    producer, _market, _other, _carrier, regulator, certificate = world
    second = make.certificate(producer)
    body = {
        "trace_codes": [certificate.trace_code, second.trace_code],
        "reason": "农残超标",
        "severity": "class_i",
    }
    assert client.post("/api/v1/recalls", json=body, headers=regulator.headers).status_code == 201
    (told,) = inbox(make.session, producer.org)
    assert told.facts["batches"] == 2
    with app.app_context(), force_locale("en"):
        assert "It also holds 1 other batch of yours. Reason: 农残超标" in texts.body(told)
    with app.app_context(), force_locale("zh_CN"):
        assert texts.body(told).endswith("。该召回还涉及贵单位的其他 1 个批次。原因：农残超标")


def test_a_dispute_tells_the_market_whose_gate_check_it_is(client, world, dbsession):
    producer, market, *_rest = world
    check = taken_at_gate(client, world)
    response = dispute(client, producer, check["id"])
    assert response.status_code == 201, response.json
    (told,) = inbox(dbsession, market.org)
    assert told.kind is NotificationKind.DISPUTED and told.facts["holder"] == producer.org.name
    assert told.facts["reason"] == "不是我交的货"
    assert inbox(dbsession, producer.org) == []


def test_receiving_less_than_was_shipped_tells_the_shipper(client, world, dbsession):
    producer, market, _other, _carrier, _regulator, certificate = world
    shipped = post(
        client,
        producer,
        kind="shipping",
        trace_code=certificate.trace_code,
        quantity="60",
        unit="kg",
        to_org=str(market.org.id),
    )
    assert shipped.status_code == 201, shipped.json
    received = post(
        client, market, kind="receiving", trace_code=certificate.trace_code, quantity="55", unit="kg"
    )
    assert received.status_code == 201, received.json
    (told,) = inbox(dbsession, producer.org)
    assert told.kind is NotificationKind.SHORT
    assert (told.facts["shipped"], told.facts["received"], told.facts["receiver"]) == (
        "60",
        "55",
        market.org.name,
    )


def test_receiving_all_that_was_shipped_tells_nobody(client, world, dbsession):
    producer, market, _other, _carrier, _regulator, certificate = world
    body = dict(trace_code=certificate.trace_code, quantity="60", unit="kg")
    assert post(client, producer, kind="shipping", to_org=str(market.org.id), **body).status_code == 201
    assert post(client, market, kind="receiving", **body).status_code == 201
    assert inbox(dbsession, producer.org) == []


def test_a_replayed_rejection_tells_no_one_twice(client, world, dbsession):
    producer, market, _other, _carrier, _regulator, certificate = world
    body = {
        "event_id": str(uuid.uuid4()),
        "handover_code": handover_code(client, producer, certificate),
        "tests": [{"method": "enzyme_inhibition", "item": "有机磷", "value": "62"}],
    }
    first = accept(client, market, certificate, result="rejected", **body)
    again = accept(client, market, certificate, result="rejected", **body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert len(inbox(dbsession, producer.org)) == 1


def test_the_regulator_of_the_region_hears_of_gate_rejections_and_others_do_not(
    client, world, make, dbsession
):
    city = make.member(OrgKind.REGULATOR, region_code="420100")  # 武汉市: holds 420116
    province = make.member(OrgKind.REGULATOR, region_code="420000")
    elsewhere = make.member(OrgKind.REGULATOR, region_code="110000")
    nowhere = make.member(OrgKind.REGULATOR, region_code=None)
    rejected_by_verdict(client, world)
    for member in (city, province, world[4]):
        assert [n.kind for n in inbox(dbsession, member.org)] == [NotificationKind.REJECTED]
    assert inbox(dbsession, elsewhere.org) == [] and inbox(dbsession, nowhere.org) == []


@pytest.mark.parametrize(
    ("regulator", "region", "covered"),
    [
        ("420000", "420116", True),
        ("420100", "420116", True),
        ("420116", "420116", True),
        ("420100", "420200", False),
        ("110000", "420116", False),
        ("000000", "420116", True),
        (None, "420116", False),
        ("420100", None, False),
    ],
)
def test_a_regulator_oversees_the_divisions_inside_its_own(regulator, region, covered):
    assert rules.covers(regulator, region) is covered


# -- delivered once, retried, never lost ----------------------------------------------------------


def test_a_notification_is_sent_once_even_when_its_job_runs_twice(client, world, dbsession, app, outboxes):
    producer = world[0]
    contacts(app, dbsession, producer, email="office@coop.example.cn", phone="13800000000")
    with receiver() as hook:
        contacts(app, dbsession, producer, webhook_url=hook.url)
        rejected_by_verdict(client, world)
        rows = deliveries(dbsession, producer.org)
        assert sorted(d.channel.value for d in rows) == ["email", "email", "sms", "webhook"]
        deliver = app.extensions["traceapp.jobs"].tasks[DELIVER_TASK]
        for row in rows:  # every message handed to the broker a second time
            deliver(delivery_id=str(row.id))
        run_queued(app)
        with app.app_context():  # and once more by hand, after they were sent
            assert {tasks.deliver(str(row.id)) for row in rows} == {"skipped"}
        assert len(hook.requests) == 1
    mine = {"office@coop.example.cn", producer.user.email}
    mails, texts = [m for m in outbox(outboxes[0]) if m["to"] in mine], outbox(outboxes[1])
    assert sorted(m["to"] for m in mails) == sorted(mine)
    assert [t["to"] for t in texts] == ["13800000000"]
    assert {d.status for d in deliveries(dbsession, producer.org)} == {DeliveryStatus.SENT}
    assert {d.attempts for d in deliveries(dbsession, producer.org)} == {1}


def test_a_webhook_is_signed_with_the_organisations_secret(client, world, dbsession, app, outboxes):
    producer = world[0]
    with receiver() as hook:
        secret = contacts(app, dbsession, producer, webhook_url=hook.url)
        rejected_by_verdict(client, world)
        run_queued(app)
    (request,) = hook.requests
    expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["x-traceapp-signature"] == expected
    body = json.loads(request["body"])
    (row,) = [d for d in deliveries(dbsession, producer.org) if d.channel is Channel.WEBHOOK]
    assert request["headers"]["x-traceapp-delivery"] == body["delivery_id"] == str(row.id)
    assert body["kind"] == "rejected" and body["trace_code"] == world[-1].trace_code


def test_a_webhook_to_a_private_address_is_refused_and_never_called(client, world, dbsession, app, outboxes):
    producer = world[0]
    app.config["NOTIFY_WEBHOOK_ALLOW_PRIVATE"] = False  # the default
    with receiver() as hook:
        contacts(app, dbsession, producer, webhook_url=hook.url)
        rejected_by_verdict(client, world)
        run_queued(app)
    assert hook.requests == []
    (row,) = [d for d in deliveries(dbsession, producer.org) if d.channel is Channel.WEBHOOK]
    assert row.status is DeliveryStatus.FAILED and "not a public address" in row.last_error


def test_a_webhook_that_redirects_is_not_followed(client, world, dbsession, app, outboxes):
    producer = world[0]
    with receiver() as inside, receiver(redirect_to=inside.url) as hook:
        contacts(app, dbsession, producer, webhook_url=hook.url)
        rejected_by_verdict(client, world)
        run_queued(app)
    assert len(hook.requests) == 4 and inside.requests == []  # asked, retried, never followed
    (row,) = [d for d in deliveries(dbsession, producer.org) if d.channel is Channel.WEBHOOK]
    assert row.status is DeliveryStatus.FAILED and "302" in row.last_error


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://localhost/",
        "http://10.0.0.8/",
        "http://169.254.169.254/latest/",
        "http://[::1]/",
        "http://192.168.1.1/",
        "http://0.0.0.0/",
    ],
)
def test_private_hosts_are_not_public(url):
    from traceapp.notify.senders import SendFailed, public_host

    with pytest.raises(SendFailed, match="not a public address"):
        public_host(url)


class Rebinding:
    """A name server for ``hook.example`` that answers ``answers`` in turn (then the last one
    again), as a hostile DNS does between a check and a connection; other names resolve as usual."""

    def __init__(self, monkeypatch, *answers):
        import socket

        self.answers, self.asked, real = list(answers), 0, socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):
            if host != "hook.example":
                return real(host, port, *args, **kwargs)
            self.asked += 1
            address = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
            return real(address, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def hook_message(port: int, scheme: str = "http"):
    from traceapp.notify.senders import Message

    to = f"{scheme}://hook.example:{port}/hook"
    return Message("d-1", "webhook", to, "s", "t", {"kind": "test"}, "secret")


def test_a_webhook_goes_to_the_address_it_checked_not_to_what_the_name_says_next(monkeypatch):
    from traceapp.notify import senders

    with receiver() as hook:
        port = int(hook.url.rsplit(":", 1)[1].split("/")[0])
        dns = Rebinding(monkeypatch, "127.0.0.1", "10.255.255.1")  # then a black hole
        senders.send_webhook(hook_message(port), allow_private=True)
    assert dns.asked == 1 and len(hook.requests) == 1
    assert hook.requests[0]["headers"]["host"] == f"hook.example:{port}"  # the URL's host, still


def test_over_https_the_pinned_connection_still_names_and_verifies_the_urls_host(monkeypatch, tmp_path):
    import ssl

    import trustme

    from traceapp.notify import senders

    ca, named = trustme.CA(), []
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hook.example").configure_cert(server)
    server.sni_callback = lambda _socket, name, _context: named.append(name)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))  # the client trusts this CA only
    with receiver(tls=server) as hook:
        port = int(hook.url.rsplit(":", 1)[1].split("/")[0])
        Rebinding(monkeypatch, "127.0.0.1", "10.255.255.1")
        senders.send_webhook(hook_message(port, "https"), allow_private=True)
        assert named == ["hook.example"] and len(hook.requests) == 1
        # A certificate for another name is refused, pinned or not.
        impostor = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("other.example").configure_cert(impostor)
    with receiver(tls=impostor) as other:
        port = int(other.url.rsplit(":", 1)[1].split("/")[0])
        Rebinding(monkeypatch, "127.0.0.1")
        with pytest.raises(senders.SendFailed, match="certificate"):
            senders.send_webhook(hook_message(port, "https"), allow_private=True)
    assert other.requests == []


def test_a_name_that_rebinds_to_a_private_address_after_the_check_reaches_nothing_inside(monkeypatch):
    from traceapp.notify import senders

    monkeypatch.setattr(senders, "TIMEOUT", 2)
    with receiver() as inside:
        port = int(inside.url.rsplit(":", 1)[1].split("/")[0])
        # Public to the check (a global address where nothing answers from this machine),
        # then the loopback receiver: only the first is ever connected to.
        dns = Rebinding(monkeypatch, "1.1.1.1", "127.0.0.1")
        with pytest.raises(senders.SendFailed):
            senders.send_webhook(hook_message(port))
    assert dns.asked == 1 and inside.requests == []


def test_a_failing_sender_is_retried_until_it_takes_the_message(client, world, dbsession, app, outboxes):
    producer = world[0]
    with receiver(fail_first=2) as hook:
        contacts(app, dbsession, producer, webhook_url=hook.url)
        rejected_by_verdict(client, world)
        ran = run_queued(app)
    assert names(ran).count(DELIVER_TASK) == 2 + 3  # an e-mail, and the webhook three times
    assert len(hook.requests) == 3
    assert len({r["headers"]["x-traceapp-delivery"] for r in hook.requests}) == 1
    (row,) = [d for d in deliveries(dbsession, producer.org) if d.channel is Channel.WEBHOOK]
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT, 3, None)


def test_a_sender_that_keeps_failing_leaves_the_delivery_failed_with_its_error(
    client, world, dbsession, app, outboxes
):
    producer = world[0]
    with receiver(always_fail=True) as hook:
        contacts(app, dbsession, producer, webhook_url=hook.url)
        rejected_by_verdict(client, world)
        run_queued(app)
    (row,) = [d for d in deliveries(dbsession, producer.org) if d.channel is Channel.WEBHOOK]
    assert row.status is DeliveryStatus.FAILED and row.attempts == row.max_attempts == 4
    assert "500" in row.last_error and len(hook.requests) == 4
    assert producer.user.email in [m["to"] for m in outbox(outboxes[0])]  # the e-mail went anyway


def test_a_delivery_whose_message_was_lost_is_sent_by_the_sweep(client, world, dbsession, app, outboxes):
    producer = world[0]
    rejected_by_verdict(client, world)
    app.extensions["traceapp.jobs"].huey.flush()  # the broker lost every message
    assert run_queued(app) == [] and outbox(outboxes[0]) == []
    (row,) = deliveries(dbsession, producer.org)
    with app.app_context():
        assert tasks.requeue_lost(10) == 0  # not yet: within the grace period
        with db.transaction() as session:
            session.execute(sa.update(Delivery).values(created_at=utcnow() - timedelta(hours=1)))
        assert tasks.requeue_lost(10) == 2  # the producer's and the regulator's
    run_queued(app)
    assert producer.user.email in [m["to"] for m in outbox(outboxes[0])]


def test_a_notification_written_in_a_transaction_that_rolls_back_is_neither_kept_nor_sent(
    world, dbsession, app, outboxes
):
    from traceapp.notify import services

    producer, *_rest, certificate = world
    with app.test_request_context(), pytest.raises(RuntimeError):
        with db.transaction() as session:
            cause = services.Cause(
                NotificationKind.SHORT, "x", certificate, {"shipped": "2", "received": "1"}
            )
            services.tell(session, [producer.org.id], cause)
            raise RuntimeError("the write fails after telling")
    assert inbox(dbsession, producer.org) == []
    assert run_queued(app) == [] and outbox(outboxes[0]) == []


def test_the_tencent_sms_adapter_sends_a_signed_sendsms_request(client, world, dbsession, app, outboxes):
    producer = world[0]
    contacts(app, dbsession, producer, phone="13800000000")
    answer = json.dumps({"Response": {"SendStatusSet": [{"Code": "Ok"}], "RequestId": "r1"}}).encode()
    with receiver(answer=answer) as sms:
        app.config["NOTIFY_SMS_URL"] = (
            "tencent://AKIDexample:secretkey@sms.tencentcloudapi.com"
            f"?app=1400000000&sign=traceapp&template=123456&endpoint={sms.url}"
        )
        rejected_by_verdict(client, world)
        run_queued(app)
    (request,) = sms.requests
    headers, body = request["headers"], json.loads(request["body"])
    assert headers["x-tc-action"] == "SendSms" and headers["x-tc-version"] == "2021-01-11"
    assert headers["authorization"].startswith("TC3-HMAC-SHA256 Credential=AKIDexample/")
    assert (
        "/sms/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature="
        in headers["authorization"]
    )
    assert body["PhoneNumberSet"] == ["+8613800000000"] and body["TemplateId"] == "123456"
    assert body["TemplateParamSet"][1] == world[-1].trace_code
    (row,) = [d for d in deliveries(dbsession, producer.org) if d.channel is Channel.SMS]
    assert body["SessionContext"] == str(row.id) and row.status is DeliveryStatus.SENT


def test_an_error_answer_from_tencent_sms_is_a_failed_attempt(client, world, dbsession, app, outboxes):
    producer = world[0]
    contacts(app, dbsession, producer, phone="13800000000")
    answer = json.dumps({"Response": {"Error": {"Code": "AuthFailure", "Message": "bad key"}}}).encode()
    with receiver(answer=answer) as sms:
        app.config["NOTIFY_SMS_URL"] = f"tencent://a:b@sms.tencentcloudapi.com?endpoint={sms.url}"
        rejected_by_verdict(client, world)
        run_queued(app)
    (row,) = [d for d in deliveries(dbsession, producer.org) if d.channel is Channel.SMS]
    assert row.status is DeliveryStatus.FAILED and "AuthFailure" in row.last_error


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory):
    """The app on a committed database of its own (SQLite file or PostgreSQL database)."""
    with committed_database("notify", tmp_path_factory.mktemp("notify")) as url:
        app = create_app(
            {"DATABASE_URL": url, "SECRET_KEY": "n", "TESTING": True, "NOTIFY_WEBHOOK_ALLOW_PRIVATE": True}
        )
        yield app
        app.extensions["traceapp.jobs"].huey.storage.close()
        app.extensions["traceapp.db"].dispose()


def test_two_workers_running_one_delivery_at_once_send_it_once(committed_app):
    from traceapp.notify import services

    app = committed_app
    with receiver() as hook:
        with app.test_request_context(), db.transaction() as session:
            parties = producer_and_market(session)
            keys = sealed.app_keys(app.config)
            orgs.set_contacts(session, org_id=parties.producer.org_id, webhook_url=hook.url, keys=keys)
            cause = services.Cause(NotificationKind.SHORT, str(uuid.uuid4()), parties.certificate, {})
            (told,) = services.tell(session, [parties.producer.org_id], cause)
        with app.app_context():
            session = db.session()
            (webhook,) = session.scalars(
                sa.select(Delivery.id).where(
                    Delivery.notification_id == told.id, Delivery.channel == Channel.WEBHOOK
                )
            )
        barrier, outcomes = threading.Barrier(2), []

        def worker() -> None:
            with app.app_context():
                barrier.wait()
                outcomes.append(tasks.deliver(str(webhook)))

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["sent", "skipped"] and len(hook.requests) == 1


def test_the_smtp_sender_hands_the_message_to_an_smtp_server_with_its_delivery_id(
    client, world, dbsession, app, outboxes
):
    from email import message_from_bytes
    from email.header import decode_header, make_header

    from aiosmtpd.controller import Controller

    from tests.live import free_port

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            received.append(envelope)
            return "250 OK"

    port = free_port()
    smtp = Controller(Handler(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        app.config["NOTIFY_EMAIL_URL"] = f"smtp://127.0.0.1:{port}?from=noreply@trace.example.cn"
        rejected_by_verdict(client, world)
        run_queued(app)
    finally:
        smtp.stop()
    producer = world[0]
    (envelope,) = [e for e in received if producer.user.email in e.rcpt_tos]
    mail = message_from_bytes(envelope.original_content)
    assert envelope.mail_from == "noreply@trace.example.cn"
    (row,) = [d for d in deliveries(dbsession, producer.org) if d.address == producer.user.email]
    assert mail["Message-ID"] == f"<{row.id}@traceapp>" and row.status is DeliveryStatus.SENT
    assert "Rejected at a market gate" in str(make_header(decode_header(mail["Subject"])))
