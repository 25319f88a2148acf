"""Dates in the organisation's time zone: "today" for a harvest date and "now" for an event are
the organisation's (a morning certificate in Hubei is harvested today, not UTC's yesterday), and
pages, labels and exports show times in its zone (Asia/Shanghai unless it says otherwise).

The clock stands still at a moment through the ``CLOCK_NOW`` setting (``traceapp/clock.py``).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.web.test_certificate_pages import sign_in
from traceapp.certificates import printing
from traceapp.certificates.models import Certificate
from traceapp.orgs.models import AuditEntry, Organisation, OrgKind

EN = {"Accept-Language": "en"}
#: 17:30 UTC on 3 December is 01:30 on 4 December in Beijing time, 18:30 on 3 December in Berlin.
EVENING_UTC = "2026-12-03T17:30:00Z"
#: 15:59 UTC is 23:59 in Beijing: still 3 December there.
BEFORE_MIDNIGHT_SHANGHAI = "2026-12-03T15:59:00Z"


def harvest_default(client) -> str:
    html = client.get("/certificates/new", headers=EN).get_data(as_text=True)
    return re.search(r'id="harvest_date" name="harvest_date" value="([^"]*)"', html).group(1)


def occurred_default(client) -> str:
    html = client.get("/events/new?kind=storing", headers=EN).get_data(as_text=True)
    return re.search(r'id="occurred_at" name="occurred_at" value="([^"]*)"', html).group(1)


@pytest.mark.parametrize(
    ("now", "zone", "today"),
    [
        (EVENING_UTC, "Asia/Shanghai", "2026-12-04"),  # past midnight in Beijing, UTC's 3 December
        (BEFORE_MIDNIGHT_SHANGHAI, "Asia/Shanghai", "2026-12-03"),
        (EVENING_UTC, "Europe/Berlin", "2026-12-03"),
        ("2026-12-04T00:30:00Z", "America/New_York", "2026-12-03"),  # UTC's today is tomorrow there
    ],
)
def test_the_harvest_date_defaults_to_today_in_the_organisations_zone(app, client, make, now, zone, today):
    app.config["CLOCK_NOW"] = now
    sign_in(client, make.member(timezone=zone))
    assert harvest_default(client) == today


def test_an_organisation_with_no_zone_of_its_own_is_in_beijing_time(app, client, make, dbsession):
    member = make.member()
    assert dbsession.get(Organisation, member.org.id).timezone == "Asia/Shanghai"
    app.config["CLOCK_NOW"] = EVENING_UTC
    sign_in(client, member)
    assert harvest_default(client) == "2026-12-04"


def test_issue_again_is_harvested_today_in_the_organisations_zone(app, client, make):
    member = make.member()
    make.certificate(member)  # harvested 2026-11-20
    app.config["CLOCK_NOW"] = EVENING_UTC
    sign_in(client, member)
    assert harvest_default(client) == "2026-12-04"  # "issue again like the last one": a new harvest


@pytest.mark.parametrize(
    ("zone", "local"), [("Asia/Shanghai", "2026-12-04T01:30"), ("Europe/Berlin", "2026-12-03T18:30")]
)
def test_an_events_time_defaults_to_now_in_the_organisations_zone(app, client, make, zone, local):
    app.config["CLOCK_NOW"] = EVENING_UTC
    sign_in(client, make.member(OrgKind.MARKET, timezone=zone))
    assert occurred_default(client) == local


def test_a_time_typed_on_the_event_form_is_the_organisations_local_time(app, client, make, dbsession):
    from traceapp.events.models import Event

    producer = make.member(timezone="Europe/Berlin")
    certificate = make.certificate(producer)
    sign_in(client, producer)
    response = client.post(
        "/events/new",
        data={
            "kind": "storing",
            "event_id": "0b7a5f8e-1d2c-4c1e-9a51-1f0f2b0c9e01",
            "trace_code": certificate.trace_code,
            "occurred_at": "2026-12-03T18:30",
            "location": "冷库",
        },
        headers=EN,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    event = dbsession.scalars(sa.select(Event).where(Event.org_id == producer.org.id)).one()
    assert event.occurred_at == datetime(2026, 12, 3, 17, 30, tzinfo=UTC)


def issued_at_evening(make, member) -> Certificate:
    """A certificate of ``member``'s issued at 17:30 UTC on 3 December."""
    return make.certificate(member, issued_at=datetime(2026, 12, 3, 17, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("zone", "day", "time"),
    [("Asia/Shanghai", "Dec 4, 2026", "1:30"), ("Europe/Berlin", "Dec 3, 2026", "6:30")],
)
def test_the_certificate_page_shows_its_time_in_the_organisations_zone(
    client, make, dbsession, zone, day, time
):
    member = make.member(timezone=zone)
    certificate = issued_at_evening(make, member)
    sign_in(client, member)
    html = client.get(f"/certificates/{certificate.id}", headers=EN).get_data(as_text=True)
    issued = re.search(r"<dt>Issued</dt><dd>([^<]*)</dd>", html).group(1)
    assert day in issued and time in issued, issued


@pytest.mark.parametrize(
    ("zone", "day"), [("Asia/Shanghai", "Dec 4, 2026"), ("Europe/Berlin", "Dec 3, 2026")]
)
def test_the_public_page_shows_the_issuers_zone_to_anyone(app, client, make, dbsession, zone, day):
    certificate = issued_at_evening(make, make.member(timezone=zone))
    html = app.test_client().get(f"/t/{certificate.trace_code}?lang=en").get_data(as_text=True)
    assert re.search(r"<dt>Issued</dt><dd>([^<]*)</dd>", html).group(1) == day
    # A signed-in user of an organisation elsewhere reads the issuer's dates, not their own.
    viewer = app.test_client()
    sign_in(viewer, make.member(OrgKind.MARKET, timezone="America/New_York"))
    html = viewer.get(f"/t/{certificate.trace_code}?lang=en").get_data(as_text=True)
    assert re.search(r"<dt>Issued</dt><dd>([^<]*)</dd>", html).group(1) == day


def test_changing_the_zone_in_the_settings_changes_the_stored_public_page(app, make, dbsession):
    member = make.member()
    certificate = issued_at_evening(make, member)
    public = app.test_client()
    page = public.get(f"/t/{certificate.trace_code}?lang=en").get_data(as_text=True)
    assert "<dt>Issued</dt><dd>Dec 4, 2026</dd>" in page
    admin = app.test_client()
    sign_in(admin, member)
    saved = admin.post("/org/settings", data={"timezone": "Europe/Berlin"}, headers=EN)
    assert saved.status_code == 302
    page = public.get(f"/t/{certificate.trace_code}?lang=en").get_data(as_text=True)
    assert "<dt>Issued</dt><dd>Dec 3, 2026</dd>" in page
    entry = dbsession.scalars(sa.select(AuditEntry).where(AuditEntry.action == "org.settings_changed")).one()
    assert entry.details == {"timezone": {"from": "Asia/Shanghai", "to": "Europe/Berlin"}}


@pytest.mark.parametrize(("zone", "day"), [("Asia/Shanghai", "2026-12-04"), ("Europe/Berlin", "2026-12-03")])
def test_the_label_text_dates_the_certificate_in_the_issuers_zone(app, make, dbsession, zone, day):
    certificate = issued_at_evening(make, make.member(timezone=zone))
    with app.test_request_context():
        content = printing.label_content(certificate, base_url="https://trace.example.cn", lang="en")
    assert ("Issued", day) in content.fields
    assert ("Harvested", "2026-11-20") in content.fields


@pytest.mark.parametrize(
    ("zone", "day", "time"),
    [
        ("Asia/Shanghai", "2026-12-04", "2026-12-04T01:30:00+08:00"),
        ("Europe/Berlin", "2026-12-03", "2026-12-03T18:30:00+01:00"),
    ],
)
def test_a_recall_export_gives_dates_and_times_in_the_exporters_zone(client, make, zone, day, time):
    producer = make.member(timezone=zone)
    certificate = issued_at_evening(make, producer)
    sign_in(client, producer)
    opened = client.post(
        "/recalls/new",
        data={"trace_codes": certificate.trace_code, "reason": "农残超标", "severity": "class_i"},
        headers=EN,
    )
    assert opened.status_code == 302, opened.get_data(as_text=True)
    export = client.get(opened.headers["Location"] + "/export.csv")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    issue = next(r for r in rows if r["event_kind"] == "commissioning")
    assert (issue["event_date"], issue["event_time"], issue["issue_date"]) == (day, time, day)


@pytest.mark.parametrize("typed", ["Mars/Olympus", "", "asia/shanghai"])
def test_an_unknown_zone_is_refused_in_the_settings(client, make, dbsession, typed):
    member = make.member()
    sign_in(client, member)
    response = client.post("/org/settings", data={"timezone": "other", "timezone_other": typed}, headers=EN)
    assert response.status_code == 422
    assert "Not a known time zone" in response.get_data(as_text=True) or "required" in response.get_data(
        as_text=True
    )
    dbsession.expire_all()
    assert dbsession.get(Organisation, member.org.id).timezone == "Asia/Shanghai"


def test_any_iana_zone_may_be_typed_in_the_settings(client, make, dbsession):
    member = make.member()
    sign_in(client, member)
    response = client.post(
        "/org/settings", data={"timezone": "other", "timezone_other": "Asia/Kolkata"}, headers=EN
    )
    assert response.status_code == 302
    dbsession.expire_all()
    assert dbsession.get(Organisation, member.org.id).timezone == "Asia/Kolkata"
    assert 'value="Asia/Kolkata"' in client.get("/org/settings", headers=EN).get_data(as_text=True)


def test_the_zone_list_reads_in_chinese_with_full_width_brackets(client, make):
    sign_in(client, make.member())
    html = client.get("/org/settings", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "中国（北京时间）（Asia/Shanghai）" in html
    english = client.get("/org/settings", headers=EN).get_data(as_text=True)
    assert "China (Beijing time) (Asia/Shanghai)" in english
