"""GLN: an organisation's optional Global Location Number (set by an admin on the settings page,
audited, unique), its public party page ``/orgs/{uuid}`` (the URI our EPCIS documents mint for
parties) with a JSON-LD record by content negotiation, and ``/414/{gln}`` and ``/417/{gln}``
resolving to it. ``/8003`` (GRAI) stays 404: we track no returnable assets."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.web.test_certificate_pages import sign_in
from tests.web.test_resolver import BASE, links_of
from traceapp.orgs import members
from traceapp.orgs.models import AuditEntry, OrgKind, Role

GLN = "0614141000012"
PREFIX = "0614141"  # GLN's GS1 company prefix
OTHER_GLN = "9520123456788"
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def with_gln(app, make, gln=GLN, prefix=PREFIX, **kwargs):
    member = make.member(**kwargs)
    with app.test_request_context():
        members.set_company_prefix(make.session, member.actor, prefix=prefix)
        members.set_gln(make.session, member.actor, gln=gln)
    make.session.commit()
    return member


def test_an_admin_sets_the_gln_on_the_settings_page_and_it_is_audited(client, make, dbsession):
    admin = sign_in(client, make.member())
    saved = client.post(
        "/org/settings",
        data={"timezone": "Asia/Shanghai", "gs1_company_prefix": PREFIX, "gln": f" {GLN} "},
        headers=EN,
    )
    assert saved.status_code == 302
    assert f'value="{GLN}"' in client.get("/org/settings", headers=EN).get_data(as_text=True)
    entry = dbsession.scalars(
        sa.select(AuditEntry).where(AuditEntry.org_id == admin.org.id).order_by(AuditEntry.at.desc())
    ).first()
    assert entry.details == {"gln": {"from": None, "to": GLN}}
    cleared = client.post(
        "/org/settings",
        data={"timezone": "Asia/Shanghai", "gs1_company_prefix": PREFIX, "gln": ""},
        headers=EN,
    )
    assert cleared.status_code == 302
    dbsession.refresh(admin.org)
    assert admin.org.gln is None


@pytest.mark.parametrize(
    ("typed", "english", "chinese"),
    [
        ("0614141000013", "check digit is wrong", "校验位"),
        ("061414100001", "13 digits", "13 位"),
        ("06141410000１2", "13 digits", "13 位"),  # a full-width digit is no digit here
        ("<script>", "13 digits", "13 位"),
    ],
)
def test_a_bad_gln_re_renders_the_form_with_the_reason_in_the_users_language(
    client, make, typed, english, chinese
):
    sign_in(client, make.member())
    for headers, words in ((EN, english), (ZH, chinese)):
        page = client.post(
            "/org/settings",
            data={"timezone": "Asia/Shanghai", "gs1_company_prefix": PREFIX, "gln": typed},
            headers=headers,
        )
        assert page.status_code == 422 and words in page.get_data(as_text=True)
        assert "<script>" not in page.get_data(as_text=True)


def test_a_gln_is_unique_among_organisations(app, make):
    """Behind the prefix check, the GLN itself stays unique (an organisation holding a GLN that
    its prefix no longer covers, or a row written around the service)."""
    holder = with_gln(app, make)
    holder.org.gs1_company_prefix = None
    make.session.commit()
    other = make.member()
    from traceapp.errors import InvalidInput

    with app.test_request_context(headers=EN), pytest.raises(InvalidInput) as refused:
        members.set_company_prefix(make.session, other.actor, prefix=PREFIX)
        members.set_gln(make.session, other.actor, gln=GLN)
    assert refused.value.errors[0].field.lstrip("/") == "gln"
    assert "Another organisation has this GLN." in refused.value.errors[0].message


def test_a_gln_under_another_organisations_prefix_is_refused_and_the_gln_keeps_resolving_to_it(
    app, client, make
):
    """The attack the review found: B typed a GLN from A's prefix and ``/414`` then led to B."""
    owner = with_gln(app, make, name="木兰合作社")
    sign_in(client, make.member(name="冒名公司"))
    for headers, words in (
        (EN, "Another organisation uses this GS1 company prefix"),
        (ZH, "另一家单位已使用此 GS1"),
    ):
        page = client.post(
            "/org/settings",
            data={"timezone": "Asia/Shanghai", "gs1_company_prefix": PREFIX, "gln": GLN},
            headers=headers,
        )
        assert page.status_code == 422 and words in page.get_data(as_text=True)
    for headers, words in (
        (EN, "not allocated from your GS1 company prefix 9520123"),
        (ZH, "厂商识别代码 9520123 之下"),
    ):
        page = client.post(
            "/org/settings",
            data={"timezone": "Asia/Shanghai", "gs1_company_prefix": "9520123", "gln": GLN},
            headers=headers,
        )
        assert page.status_code == 422 and words in page.get_data(as_text=True)
    answer = client.get(f"/414/{GLN}")
    assert answer.status_code == 307 and answer.headers["Location"] == f"{BASE}/orgs/{owner.org.id}"


@pytest.mark.parametrize(
    ("headers", "words"),
    [(EN, "Set your GS1 company prefix first"), (ZH, "请先设置本单位的 GS1 厂商识别代码")],
)
def test_a_gln_without_a_company_prefix_is_refused_naming_the_field(client, make, dbsession, headers, words):
    admin = sign_in(client, make.member())
    page = client.post("/org/settings", data={"timezone": "Asia/Shanghai", "gln": GLN}, headers=headers)
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and words in html
    dbsession.refresh(admin.org)
    assert admin.org.gln is None


@pytest.mark.parametrize("gln", [GLN, "0614141999996"])
def test_a_gln_under_the_organisations_own_prefix_is_accepted(app, client, make, dbsession, gln):
    admin = sign_in(client, make.member())
    saved = client.post(
        "/org/settings",
        data={"timezone": "Asia/Shanghai", "gs1_company_prefix": PREFIX, "gln": gln},
        headers=EN,
    )
    assert saved.status_code == 302
    dbsession.refresh(admin.org)
    assert (admin.org.gs1_company_prefix, admin.org.gln) == (PREFIX, gln)


@pytest.mark.parametrize(
    ("gln", "prefix", "under"),
    [
        ("0614141000012", "0614141", True),
        ("0614141000012", "061414100001", True),  # a 12-digit prefix: no location reference
        ("0614141000012", "0614142", False),
        ("0614141000012", "614141", False),  # digits elsewhere in the GLN are no prefix
        ("0614141000012", "", False),
    ],
)
def test_gln_under_prefix(gln, prefix, under):
    assert members.gln_under_prefix(gln, prefix) is under


def test_changing_the_prefix_away_from_the_gln_is_refused_naming_the_gln(client, make, app, dbsession):
    admin = sign_in(client, with_gln(app, make))
    page = client.post(
        "/org/settings",
        data={"timezone": "Asia/Shanghai", "gs1_company_prefix": "9520123", "gln": GLN},
        headers=EN,
    )
    assert page.status_code == 422 and "not allocated from your GS1 company prefix" in page.get_data(
        as_text=True
    )
    dbsession.refresh(admin.org)
    assert (admin.org.gs1_company_prefix, admin.org.gln) == (PREFIX, GLN)


def test_only_an_admin_sets_the_gln(app, client, make):
    admin = make.member()
    member = make.member(org=admin.org, role=Role.MEMBER)
    sign_in(client, member)
    answer = client.post("/org/settings", data={"timezone": "Asia/Shanghai", "gln": GLN}, headers=EN)
    assert answer.status_code == 403
    from traceapp.errors import PermissionDenied

    with app.test_request_context(), pytest.raises(PermissionDenied):
        members.set_gln(make.session, member.actor, gln=GLN)


def test_the_party_page_shows_name_kind_region_and_gln_and_nothing_personal(app, client, make):
    org = with_gln(
        app, make, kind=OrgKind.MARKET, name="木兰农贸市场", phone="13800138000", address="木兰大道 1 号"
    ).org
    for headers, kind in ((ZH, "市场"), (EN, "Market")):
        page = client.get(f"/orgs/{org.id}", headers=headers)
        assert page.status_code == 200 and page.mimetype == "text/html"
        html = page.get_data(as_text=True)
        assert "木兰农贸市场" in html and kind in html and GLN in html and "420116" in html
        assert "13800138000" not in html and "木兰大道" not in html and "@example.cn" not in html
        assert "<script" not in html
    assert "黄陂区" in client.get(f"/orgs/{org.id}", headers=ZH).get_data(as_text=True)
    assert "（420116）" in client.get(f"/orgs/{org.id}", headers=ZH).get_data(as_text=True)


@pytest.mark.parametrize("accept", ["application/ld+json", "application/json"])
def test_the_party_record_is_json_ld_by_content_negotiation(app, client, make, accept):
    org = with_gln(app, make, name="木兰合作社").org
    answer = client.get(f"/orgs/{org.id}", headers={"Accept": accept})
    assert answer.status_code == 200 and answer.mimetype == accept and "Accept" in answer.headers["Vary"]
    record = answer.json
    assert record["@id"] == f"{BASE}/orgs/{org.id}"
    assert "gs1:Organization" in record["@type"] and record["@context"]["gs1"] == "https://gs1.org/voc/"
    assert record["gs1:globalLocationNumber"] == GLN and record["gs1:organizationName"] == "木兰合作社"
    assert record["schema:areaServed"]["schema:identifier"] == "420116"
    assert "phone" not in str(record) and "address" not in str(record)


def test_an_unknown_party_is_404_in_html_and_json(client):
    missing = f"/orgs/{uuid.uuid4()}"
    assert client.get(missing).status_code == 404
    answer = client.get(missing, headers={"Accept": "application/ld+json"})
    assert answer.status_code == 404 and answer.mimetype == "application/problem+json"
    assert client.get("/orgs/not-a-uuid").status_code == 404


def test_the_epcis_party_uri_is_the_party_page(app, client, make):
    from traceapp.epcis.documents import _org

    org = with_gln(app, make).org
    assert client.get(_org(BASE, org.id).removeprefix(BASE)).status_code == 200


@pytest.mark.parametrize("key", ["414", "417"])
def test_a_gln_we_hold_resolves_to_its_party_page(app, client, make, key):
    org = with_gln(app, make, name="木兰合作社").org
    page = f"{BASE}/orgs/{org.id}"
    answer = client.get(f"/{key}/{GLN}")
    assert answer.status_code == 307 and answer.headers["Location"] == page
    links = links_of(answer)
    assert links["https://gs1.org/voc/defaultLink"] == page
    assert links["linkset"] == f"{BASE}/{key}/{GLN}?linkType=linkset"
    linkset = client.get(f"/{key}/{GLN}?linkType=all", headers=EN)
    assert linkset.mimetype == "application/linkset+json"
    (context,) = linkset.json["linkset"]
    assert context["anchor"] == f"{BASE}/{key}/{GLN}" and context["itemDescription"] == "木兰合作社"
    targets = context["https://gs1.org/voc/defaultLink"]
    assert [t["type"] for t in targets] == ["text/html", "application/ld+json"]
    assert all(t["href"] == page for t in targets) and targets[0]["title"] == "The organisation's page"
    assert client.get(f"/{key}/{GLN}", headers={"Accept": "application/linkset+json"}).status_code == 200


def test_a_gln_with_its_extension_resolves_to_the_party(app, client, make):
    org = with_gln(app, make).org
    answer = client.get(f"/414/{GLN}/254/DOCK-1")
    assert answer.status_code == 307 and answer.headers["Location"] == f"{BASE}/orgs/{org.id}"


def test_an_unknown_or_malformed_gln_answers_as_before_and_a_grai_says_why(app, client, make):
    with_gln(app, make)
    unknown = client.get(f"/417/{OTHER_GLN}")
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
    assert "Link" in unknown.headers
    bad = client.get("/414/0614141000013")
    assert bad.status_code == 400 and bad.json["errors"][0]["field"] == "/414"
    grai = client.get("/8003/006141410000121", headers=EN)
    assert grai.status_code == 404 and "returnable assets" in grai.json["detail"]
    assert "可回收" in client.get("/8003/006141410000121", headers=ZH).json["detail"]
