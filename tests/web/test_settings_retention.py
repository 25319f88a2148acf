"""Retention of purchases (收购) and collected certificates on the organisation settings page:
the same rule as ``PUT /api/v1/purchases/retention`` (at least six months, empty keeps
everything), admins only, audited, errors re-rendered in the user's language."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.web.test_certificate_pages import sign_in
from traceapp.orgs.models import AuditEntry, Role

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def post(client, retention, headers=EN, **extra):
    data = {"timezone": "Asia/Shanghai", "retention_months": retention, **extra}
    return client.post("/org/settings", data=data, headers=headers)


def test_an_admin_sets_the_retention_on_the_settings_page_and_it_is_audited(client, make, dbsession):
    admin = sign_in(client, make.member())
    page = client.get("/org/settings", headers=ZH).get_data(as_text=True)
    assert 'name="retention_months"' in page and "收购" in page
    assert post(client, " 24 ").status_code == 302
    dbsession.refresh(admin.org)
    assert admin.org.retention_months == 24
    assert 'value="24"' in client.get("/org/settings", headers=EN).get_data(as_text=True)
    entry = dbsession.scalars(
        sa.select(AuditEntry).where(AuditEntry.org_id == admin.org.id).order_by(AuditEntry.at.desc())
    ).first()
    assert entry.details == {"retention_months": {"from": None, "to": 24}}
    # A post without the field (a page from before it) keeps it; an empty field keeps everything.
    assert client.post("/org/settings", data={"timezone": "Asia/Shanghai"}).status_code == 302
    dbsession.refresh(admin.org)
    assert admin.org.retention_months == 24
    assert post(client, "").status_code == 302
    dbsession.refresh(admin.org)
    assert admin.org.retention_months is None


@pytest.mark.parametrize(
    ("typed", "english", "chinese"),
    [
        ("5", "kept at least 6 months", "收取的合格证至少保存 6 个月。"),
        ("0", "kept at least 6 months", "收取的合格证至少保存 6 个月。"),
        ("1201", "At most 1200 months.", "最多 1200 个月。"),
        ("-6", "Whole months", "整月数"),
        ("6.5", "Whole months", "整月数"),
        ("<script>", "Whole months", "整月数"),
        ("9" * 40, "Whole months", "整月数"),
    ],
)
def test_a_bad_retention_re_renders_the_form_in_the_users_language_and_saves_nothing(
    client, make, dbsession, typed, english, chinese
):
    admin = sign_in(client, make.member())
    for headers, words in ((EN, english), (ZH, chinese)):
        page = post(client, typed, headers=headers, gln="")
        html = page.get_data(as_text=True)
        assert page.status_code == 422 and words in html, html
        assert 'id="retention_months-error"' in html and "<script>" not in html
    dbsession.refresh(admin.org)
    assert admin.org.retention_months is None


def test_a_bad_retention_saves_none_of_the_other_settings(client, make, dbsession):
    """One transaction: the time zone typed beside a refused retention is not saved either."""
    admin = sign_in(client, make.member())
    page = post(client, "3", timezone="Europe/Berlin")
    assert page.status_code == 422
    dbsession.refresh(admin.org)
    assert admin.org.timezone != "Europe/Berlin" and admin.org.retention_months is None


def test_only_an_admin_sets_the_retention(client, make, dbsession):
    admin = make.member()
    sign_in(client, make.member(org=admin.org, role=Role.MEMBER))
    assert post(client, "24").status_code == 403
    dbsession.refresh(admin.org)
    assert admin.org.retention_months is None
