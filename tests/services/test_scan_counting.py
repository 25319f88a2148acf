"""Scan counting: a view writes nothing to the database; the flush job counts, publishes and
renders; a code scanned past the configured rule is suspicious everywhere."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from traceapp.public import scans
from traceapp.public.models import PublicPage, ScanCount, ScanPlace


def flush(app) -> int:
    with app.app_context():
        return scans.flush()


def scan(client, code, address="203.0.113.7", **headers):
    response = client.get(f"/t/{code}", environ_base={"REMOTE_ADDR": address}, headers=headers)
    assert response.status_code == 200
    return response


def counts(dbsession, certificate):
    dbsession.expire_all()
    return dbsession.get(ScanCount, certificate.id)


def test_a_scan_writes_nothing_to_the_database_in_the_request(
    client, make, count_queries, connection, dbsession
):
    certificate = make.certificate(make.member())
    driver = connection.connection.dbapi_connection
    seen: list[str] = []
    if connection.dialect.name == "sqlite":  # the stored page is read on a bare driver cursor
        driver.set_trace_callback(seen.append)
    try:
        with count_queries as queries:
            stored = scan(client, certificate.trace_code)
    finally:
        if connection.dialect.name == "sqlite":
            driver.set_trace_callback(None)
    assert stored.headers["ETag"]  # the front layer served the stored page
    assert queries.statements == []
    assert all(s.lstrip().upper().startswith("SELECT") for s in seen), seen
    # A page rendered live (behind its data) notes its scan too, and writes nothing either.
    dbsession.execute(sa.update(PublicPage).values(version=PublicPage.version + 1))
    dbsession.commit()
    with count_queries as queries:
        live = scan(client, certificate.trace_code)
    assert "ETag" not in live.headers and queries.writes == []
    assert counts(dbsession, certificate) is None  # nothing counted until the flush
    assert flush(client.application) == 2
    row = counts(dbsession, certificate)
    assert row.scans == 2 and row.places == 1 and row.first_scanned_at is not None
    assert flush(client.application) == 0  # what was taken is gone from the counter


def test_the_page_shows_the_first_scan_and_the_count_once_flushed(client, make, app, dbsession):
    certificate = make.certificate(make.member())
    first = scan(client, certificate.trace_code, **{"Accept-Language": "en"}).get_data(as_text=True)
    assert "Not scanned before." in first
    flush(app)
    page = scan(client, certificate.trace_code, **{"Accept-Language": "en"})
    assert page.headers["ETag"]  # the flush stored the page again, with the count
    html = page.get_data(as_text=True)
    assert "First scanned on" in html and ", 1 scan." in html
    # A language switch or the web font is the same visitor: not a scan.
    client.get(f"/t/{certificate.trace_code}?lang=en")
    client.get(f"/t/{certificate.trace_code}?font=cjk")
    flush(app)
    assert counts(dbsession, certificate).scans == 2


def test_a_popular_page_shows_new_counts_at_most_every_refresh_interval(client, make, app, dbsession):
    certificate = make.certificate(make.member())
    scan(client, certificate.trace_code)
    flush(app)
    version = dbsession.get(PublicPage, certificate.id).version
    scan(client, certificate.trace_code)
    flush(app)
    row = counts(dbsession, certificate)
    assert (row.scans, row.shown_scans) == (2, 1)  # counted, not yet shown
    assert dbsession.get(PublicPage, certificate.id).version == version  # the page was not bumped
    # Once the interval has passed, the next flush publishes it even with no new scan of it.
    row.shown_at -= timedelta(seconds=app.config["SCAN_PAGE_REFRESH_SECONDS"] + 1)
    dbsession.commit()
    scan(client, make.certificate(make.member()).trace_code)
    flush(app)
    assert counts(dbsession, certificate).shown_scans == 2
    html = client.get(f"/t/{certificate.trace_code}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert ", 2 scans." in html


def suspicious_rule(app, **rule):
    app.config.update(
        {"SCAN_SUSPICIOUS_PER_UNIT": 0, "SCAN_SUSPICIOUS_MIN": 3, "SCAN_SUSPICIOUS_PLACES": 0, **rule}
    )


def test_a_batch_scanned_past_the_rule_is_suspicious_on_its_page_and_in_the_api(client, make, app):
    suspicious_rule(app)
    producer = make.member()
    certificate = make.certificate(producer, quantity=Decimal("10"))
    for _ in range(3):
        scan(client, certificate.trace_code)
    flush(app)
    code_api = f"/api/v1/codes/{certificate.trace_code}"
    assert client.get(code_api, headers=producer.headers).json["status"] == "valid"  # 3 is the limit
    scan(client, certificate.trace_code)
    flush(app)  # past the rule: published (and the page rendered) at once, not after the interval
    assert client.get(code_api, headers=producer.headers).json["status"] == "suspicious"
    page = client.get(f"/t/{certificate.trace_code}", headers={"Accept-Language": "en"})
    assert page.headers["ETag"]
    html = page.get_data(as_text=True)
    assert "SUSPICIOUS" in html and 'class="status status-valid"' not in html
    assert "4 scans since" in html


def test_the_rule_scales_with_the_batch_size(client, make, app):
    suspicious_rule(app, SCAN_SUSPICIOUS_PER_UNIT=2)
    producer = make.member()
    big = make.certificate(producer, quantity=Decimal("10"), unit="kg")  # 20 scans explained
    small = make.certificate(producer, quantity=Decimal("2"), unit="jin")  # 1 kg: the floor, 3
    for _ in range(5):
        scan(client, big.trace_code)
        scan(client, small.trace_code)
    flush(app)
    status = {
        c: client.get(f"/api/v1/codes/{c.trace_code}", headers=producer.headers).json["status"]
        for c in (big, small)
    }
    assert status == {big: "valid", small: "suspicious"}


def test_scans_from_more_places_than_the_batch_explains_are_suspicious(client, make, app, dbsession):
    suspicious_rule(app, SCAN_SUSPICIOUS_MIN=1000, SCAN_SUSPICIOUS_PLACES=2)
    producer = make.member()
    certificate = make.certificate(producer, quantity=Decimal("1"))
    for address in ("198.51.100.1", "198.51.100.200", "203.0.113.9", "2001:db8:1:2::1", "2001:db8:1:3::1"):
        scan(client, certificate.trace_code, address=address)
    flush(app)
    row = counts(dbsession, certificate)
    # one /24, another /24, one /48 (two /64s in it): three places, no address kept
    assert row.places == 3
    stored = dbsession.scalars(
        sa.select(ScanPlace.place).where(ScanPlace.certificate_id == certificate.id)
    ).all()
    assert len(stored) == 3 and not any("." in p or ":" in p for p in stored)
    assert client.get(f"/api/v1/codes/{certificate.trace_code}", headers=producer.headers).json["status"] == (
        "suspicious"
    )
    # The same places again add nothing.
    scan(client, certificate.trace_code, address="198.51.100.7")
    flush(app)
    assert counts(dbsession, certificate).places == 3


def test_the_worker_sweep_flushes_the_counts(client, make, app, dbsession):
    from traceapp import jobs

    certificate = make.certificate(make.member())
    scan(client, certificate.trace_code)
    with app.app_context():
        jobs.queue().tasks["sweep"].call_local()
    assert counts(dbsession, certificate).scans == 1
