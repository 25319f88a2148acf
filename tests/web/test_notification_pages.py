"""The producer's pages tell what happened to its batches: the certificate list and page show
each batch's status by the one rule, and the inbox (with its unread count in the navigation)
lists the notifications."""

from __future__ import annotations

import re

from tests.api.test_custody_api import reject
from tests.api.test_events_api import handover_code
from tests.web.test_certificate_pages import sign_in
from traceapp import sealed
from traceapp.orgs.models import OrgKind

EN = {"Accept-Language": "en"}


def statuses(html: str) -> list[str]:
    return re.findall(r'data-status="(\w+)"', html)


def recall(client, regulator, certificate):
    body = {"trace_codes": [certificate.trace_code], "reason": "农残超标", "severity": "class_i"}
    assert client.post("/api/v1/recalls", json=body, headers=regulator.headers).status_code == 201


def test_the_certificate_list_and_page_show_a_recall_and_a_gate_rejection(client, make):
    producer, market, regulator = make.member(), make.member(OrgKind.MARKET), make.member(OrgKind.REGULATOR)
    standing, rejected, recalled = (make.certificate(producer) for _ in range(3))
    response = reject(client, market, rejected, handover_code=handover_code(client, producer, rejected))
    assert response.status_code == 201, response.json
    recall(client, regulator, recalled)
    sign_in(client, producer)
    page = client.get("/certificates", headers=EN).get_data(as_text=True)
    assert statuses(page) == ["recalled", "failed_inspection", "valid"]  # newest first
    assert "Recalled" in page and "Rejected at a gate" in page
    for certificate, status in ((recalled, "recalled"), (rejected, "failed_inspection")):
        shown = client.get(f"/certificates/{certificate.id}", headers=EN).get_data(as_text=True)
        assert statuses(shown) == [status]
    assert statuses(client.get(f"/certificates/{standing.id}", headers=EN).get_data(as_text=True)) == []


def test_the_certificate_list_reads_the_facts_of_a_page_in_a_fixed_number_of_queries(
    client, make, count_queries
):
    producer, regulator = make.member(), make.member(OrgKind.REGULATOR)
    sign_in(client, producer)
    first = make.certificate(producer)
    recall(client, regulator, first)
    client.get("/certificates")  # warm up (the session's sign-in bookkeeping)
    with count_queries as one:
        client.get("/certificates")
    for _ in range(5):
        recall(client, regulator, make.certificate(producer))
    with count_queries as six:
        assert statuses(client.get("/certificates").get_data(as_text=True)).count("recalled") == 6
    assert len(six.selects) == len(one.selects)


def test_the_inbox_lists_notifications_and_the_navigation_counts_the_unread(client, make):
    producer, regulator = make.member(), make.member(OrgKind.REGULATOR)
    certificate = make.certificate(producer)
    sign_in(client, producer)
    assert 'data-unread="' not in client.get("/certificates", headers=EN).get_data(as_text=True)
    recall(client, regulator, certificate)
    page = client.get("/certificates", headers=EN).get_data(as_text=True)
    assert 'data-unread="1"' in page
    inbox = client.get("/notifications", headers=EN).get_data(as_text=True)
    assert "Recalled: 大白菜" in inbox and "农残超标" in inbox and 'class="notification unread"' in inbox
    notification_id = re.search(r'action="/notifications/([0-9a-f-]{36})/read"', inbox).group(1)
    assert client.post(f"/notifications/{notification_id}/read").status_code == 302
    after = client.get("/notifications", headers=EN).get_data(as_text=True)
    assert 'class="notification unread"' not in after and 'data-unread="' not in after
    assert "Nothing to tell you yet." in client.get("/notifications?unread=true", headers=EN).get_data(
        as_text=True
    )


def test_marking_all_read_clears_the_badge(client, make):
    producer, regulator = make.member(), make.member(OrgKind.REGULATOR)
    for _ in range(2):
        recall(client, regulator, make.certificate(producer))
    sign_in(client, producer)
    assert 'data-unread="2"' in client.get("/notifications").get_data(as_text=True)
    assert client.post("/notifications/read-all").status_code == 302
    assert 'data-unread="' not in client.get("/notifications").get_data(as_text=True)


def test_a_bad_inbox_query_is_a_page_naming_the_field(client, make):
    sign_in(client, make.member())
    page = client.get("/notifications?unread=maybe", headers=EN)
    assert page.status_code == 422 and page.mimetype == "text/html"


def test_an_admin_sets_where_notifications_go_and_sees_a_new_webhooks_secret_once(client, make, dbsession):
    from traceapp.orgs.models import AuditEntry, Organisation

    admin = make.member()
    sign_in(client, admin)
    assert client.get("/notifications/settings", headers=EN).status_code == 200
    form = {
        "email": "office@coop.example.cn",
        "phone": "13800000000",
        "webhook_url": "https://erp.example.cn/hook",
    }
    page = client.post("/notifications/settings", data=form, headers=EN)
    assert page.status_code == 200 and 'id="webhook-secret"' in page.get_data(as_text=True)
    dbsession.expire_all()
    org = dbsession.get(Organisation, admin.org.id)
    stored = org.webhook_secret
    secret = sealed.unseal(sealed.app_keys(client.application.config), stored)
    assert secret in page.get_data(as_text=True) and org.email == "office@coop.example.cn"
    assert secret not in stored  # stored sealed, shown this once
    again = client.post("/notifications/settings", data=form, headers=EN)
    assert again.status_code == 302  # the same URL keeps its secret
    dbsession.expire_all()
    assert dbsession.get(Organisation, admin.org.id).webhook_secret == stored
    cleared = client.post("/notifications/settings", data={"email": form["email"]}, headers=EN)
    assert cleared.status_code == 302
    dbsession.expire_all()
    org = dbsession.get(Organisation, admin.org.id)
    assert (org.phone, org.webhook_url, org.webhook_secret) == (None, None, None)
    entries = (
        dbsession.query(AuditEntry).filter_by(org_id=admin.org.id, action="org.contacts_changed").count()
    )
    assert entries == 3


def test_a_bad_address_re_renders_the_settings_with_the_message_beside_it(client, make, dbsession):
    from traceapp.orgs.models import Organisation

    admin = make.member()
    sign_in(client, admin)
    for form, field, message in (
        ({"email": "not-an-address"}, "email", "Enter an e-mail address."),
        ({"webhook_url": "ftp://erp.example.cn"}, "webhook_url", "Enter an http:// or https:// address."),
        ({"email": "a@b.cn" * 60}, "email", "At most 254 characters."),
    ):
        page = client.post("/notifications/settings", data=form, headers=EN)
        html = page.get_data(as_text=True)
        assert page.status_code == 422 and f'id="{field}-error"' in html and message in html
    dbsession.expire_all()
    org = dbsession.get(Organisation, admin.org.id)
    assert (org.email, org.webhook_url) == (None, None)


def test_a_member_who_is_not_an_admin_may_not_change_where_notifications_go(client, make):
    from traceapp.orgs.models import Role

    admin = make.member()
    member = make.member(org=admin.org, role=Role.MEMBER)
    sign_in(client, member)
    assert client.get("/notifications/settings", headers=EN).status_code == 403
    assert client.post("/notifications/settings", data={"email": "x@y.cn"}, headers=EN).status_code == 403
    assert "/notifications/settings" not in client.get("/notifications", headers=EN).get_data(as_text=True)
