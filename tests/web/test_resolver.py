"""The GS1 Digital Link resolver: /01/{gtin}/10/{lot} under our host, as GS1's resolver standard says."""

from __future__ import annotations

import json

import pytest

from tests.api.test_status_everywhere import open_recall
from traceapp.orgs.models import OrgKind

BASE = "https://trace.example.cn"  # the suite's PUBLIC_BASE_URL
GTIN = "09506000134352"
GS1 = "https://gs1.org/voc/"


@pytest.fixture()
def batch(make):
    return make.certificate(make.member(), gtin=GTIN, batch_no="B2026-11", product_name="西兰花")


def follow(client, url: str, **kwargs):
    """The answer at the end of a redirect to our public host (the suite's client is on localhost)."""
    response = client.get(url, **kwargs)
    assert response.status_code == 307, response.get_data(as_text=True)
    assert response.headers["Location"].startswith(BASE)
    return client.get(response.headers["Location"][len(BASE) :], **kwargs)


def links_of(response) -> dict[str, str]:
    """rel → href of an RFC 8288 Link header."""
    found = {}
    for value in response.headers["Link"].split(", <"):
        href, _sep, params = value.lstrip("<").partition(">")
        rel = next(p.split("=", 1)[1].strip('"') for p in params.split(";") if p.strip().startswith("rel="))
        found.setdefault(rel, href)
    return found


def test_default_link_redirects_to_the_consumer_page_with_every_link_in_the_header(client, batch):
    for lot in ("B2026-11", batch.trace_code):
        response = client.get(f"/01/{GTIN}/10/{lot}")
        assert response.status_code == 307
        assert response.headers["Location"] == f"{BASE}/t/{batch.trace_code}"
        rels = links_of(response)
        assert rels[GS1 + "defaultLink"] == f"{BASE}/t/{batch.trace_code}"
        assert rels[GS1 + "traceability"] == f"{BASE}/api/v1/codes/{batch.trace_code}/epcis"
        assert rels["linkset"] == f"{BASE}/01/{GTIN}/10/{lot}?linkType=linkset"
    assert client.get(f"/01/{GTIN}/10/{batch.trace_code}").headers["Location"].endswith(batch.trace_code)
    # Followed, the redirect lands on the page that shows the batch.
    assert "西兰花" in follow(client, f"/01/{GTIN}/10/B2026-11").get_data(as_text=True)


@pytest.mark.parametrize(
    ("link_type", "target"),
    [
        ("gs1:traceability", "/api/v1/codes/{code}/epcis"),
        ("https://gs1.org/voc/traceability", "/api/v1/codes/{code}/epcis"),
        ("https://ref.gs1.org/voc/certificationInfo", "/t/{code}"),
        ("gs1:recallStatus", "/t/{code}/status.json"),
        ("gs1:pip", "/products/" + GTIN),
        ("gs1:defaultLink", "/t/{code}"),
        ("gs1:noSuchLinkType", "/t/{code}"),  # an unavailable link type: the default link
        ("gs1:PIP", "/t/{code}"),  # link types are case-sensitive
    ],
)
def test_each_link_type_redirects_to_its_target(client, batch, link_type, target):
    response = client.get(f"/01/{GTIN}/10/B2026-11", query_string={"linkType": link_type})
    assert response.status_code == 307
    assert response.headers["Location"] == BASE + target.format(code=batch.trace_code)
    assert "Link" in response.headers


def test_the_targets_answer(client, make):
    producer = make.member()
    batch = make.certificate(producer, gtin=GTIN, batch_no="B2026-11", product_name="西兰花")
    # The EPCIS document wants a token, as it always did: the resolver opens nothing new.
    assert follow(client, f"/01/{GTIN}/10/B2026-11?linkType=gs1:traceability").status_code == 401
    epcis = follow(client, f"/01/{GTIN}/10/B2026-11?linkType=gs1:traceability", headers=producer.headers)
    assert epcis.status_code == 200 and epcis.mimetype == "application/ld+json"
    assert batch.trace_code in epcis.get_data(as_text=True)
    status = follow(client, f"/01/{GTIN}/10/B2026-11?linkType=gs1:recallStatus")
    assert status.json == {
        "trace_code": batch.trace_code,
        "status": "valid",
        "revoked": False,
        "revoked_at": None,
        "revoke_reason": None,
        "replaced_by": None,
        "recalled": False,
        "recall": None,
    }
    page = follow(client, f"/01/{GTIN}?linkType=gs1:pip", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "西兰花" in html and GTIN in html
    assert batch.trace_code not in html  # a product page never lists its batches
    assert "<script" not in html.lower()


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ({"linkType": "all"}, None),
        ({"linkType": "linkset"}, None),
        ({}, "application/linkset+json"),
        ({}, "application/json"),
    ],
)
def test_linkset_by_link_type_all_or_content_negotiation(client, batch, query, accept):
    headers = {"Accept": accept} if accept else {}
    response = client.get(f"/01/{GTIN}/10/B2026-11", query_string=query, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/linkset+json"
    assert "Link" in response.headers and "Accept" in response.headers["Vary"]
    document = json.loads(response.get_data())
    assert list(document) == ["linkset"] and len(document["linkset"]) == 1
    context = document["linkset"][0]
    assert context["anchor"] == f"{BASE}/01/{GTIN}/10/B2026-11"
    for name in ("defaultLink", "pip", "traceability", "certificationInfo", "recallStatus"):
        targets = context[GS1 + name]
        assert isinstance(targets, list) and targets
        assert all({"href", "title", "type"} <= set(t) for t in targets)
    assert context[GS1 + "traceability"][0]["type"] == "application/ld+json"
    assert context[GS1 + "defaultLink"][0]["hreflang"] == ["zh", "en"]


def test_a_browser_gets_the_redirect_not_the_linkset(client, batch):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get(f"/01/{GTIN}/10/B2026-11", headers={"Accept": accept}).status_code == 307
    assert client.get(f"/01/{GTIN}/10/B2026-11", headers={"Accept": "*/*"}).status_code == 307


def test_linkset_titles_follow_accept_language(client, batch):
    url = f"/01/{GTIN}/10/B2026-11?linkType=all"
    en = client.get(url, headers={"Accept-Language": "en"}).json
    zh = client.get(url, headers={"Accept-Language": "zh-CN,zh;q=0.9"}).json
    assert en["linkset"][0][GS1 + "traceability"][0]["title"].startswith("Traceability data")
    assert zh["linkset"][0][GS1 + "traceability"][0]["title"].startswith("追溯数据")


def test_unknown_lot_of_a_known_gtin_answers_with_the_products_links(client, batch):
    response = client.get(f"/01/{GTIN}/10/NOSUCHLOT")
    assert response.status_code == 307
    assert response.headers["Location"] == f"{BASE}/products/{GTIN}"
    document = client.get(f"/01/{GTIN}/10/NOSUCHLOT?linkType=all").json
    context = document["linkset"][0]
    assert context["anchor"] == f"{BASE}/01/{GTIN}"
    assert (
        GS1 + "traceability" not in context and context[GS1 + "pip"][0]["href"] == f"{BASE}/products/{GTIN}"
    )
    # GTIN alone, GTIN-13 spelling stored, serial and CPV walk up to what we know.
    assert client.get(f"/01/{GTIN}").headers["Location"] == f"{BASE}/products/{GTIN}"
    assert client.get(f"/01/{GTIN}/22/V1/10/B2026-11/21/S1").headers["Location"].endswith(batch.trace_code)
    assert client.get("/01/9506000134352/10/B2026-11").headers["Location"].endswith(batch.trace_code)


def test_lots_are_case_sensitive(client, batch):
    assert client.get(f"/01/{GTIN}/10/b2026-11").headers["Location"] == f"{BASE}/products/{GTIN}"


def test_revoked_batch_says_so_in_the_linkset_the_status_and_the_page(client, make):
    producer = make.member()
    certificate = make.certificate(producer, gtin=GTIN, batch_no="R1")
    client.post(
        f"/api/v1/certificates/{certificate.id}/revoke",
        json={"reason": "数量写错了"},
        headers=producer.headers,
    )
    context = client.get(f"/01/{GTIN}/10/R1?linkType=all", headers={"Accept-Language": "en"}).json["linkset"][
        0
    ]
    assert "revoked" in context["itemDescription"]
    assert context[GS1 + "defaultLink"][0]["status"] == "revoked"
    status = follow(client, f"/01/{GTIN}/10/R1?linkType=gs1:recallStatus").json
    assert (
        status["revoked"] is True
        and status["status"] == "revoked"
        and status["revoke_reason"] == "数量写错了"
    )
    page = follow(client, f"/01/{GTIN}/10/R1?lang=en").get_data(as_text=True)
    assert "REVOKED" in page


def test_recalled_batch_status(client, make, batch):
    open_recall(client, make.member(OrgKind.REGULATOR), batch)
    status = client.get(f"/t/{batch.trace_code}/status.json").json
    assert status["recalled"] is True and status["recall"]["reason"] == "农残超标"


def test_unknown_gtin_is_404_problem_json(client, batch):
    response = client.get("/01/00000000000017/10/B2026-11")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json" and "Link" in response.headers
    assert client.get("/00/106141411234567897").status_code == 404  # an SSCC we do not hold
    assert client.get("/414/9520123456788").status_code == 404
    assert client.get("/products/00000000000017").status_code == 404
    # The same code with another check character (the suite's codes are random).
    wrong = batch.trace_code[:-1] + ("Y" if batch.trace_code.endswith("X") else "X")
    assert client.get(f"/t/{wrong}/status.json").status_code == 404


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/01/09506000134353", "/01"),  # check digit
        ("/01/0950600013435", "/01"),  # 13 digits: zero-padded, then its check digit fails
        ("/01/ABC", "/01"),
        ("/01/09506000134352/10/" + "A" * 21, "/10"),  # longer than 20
        ("/01/09506000134352/21/S1/10/L1", "/"),  # qualifiers out of order
        ("/01/09506000134352/10/L1?17=261332", "/query/17"),  # no 32nd day
        ("/01/09506000134352/10/L1?10=L2", "/query/10"),  # a qualifier in the query
        ("/00/106141411234567898", "/00"),
        ("/414/952012345678", "/414"),
    ],
)
def test_bad_uris_are_400_problem_json_naming_the_part(client, batch, path, field):
    response = client.get(path)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json" and "Link" in response.headers
    assert [e["field"] for e in response.json["errors"]] == [field]


def test_well_known_description_file(client):
    response = client.get("/.well-known/gs1resolver")
    assert response.status_code == 200 and "Link" in response.headers
    document = response.json
    assert document["resolverRoot"] == BASE
    assert document["supportedPrimaryKeys"] == ["01", "00", "414", "417"]
    assert document["supportedLinkType"] == [{"namespace": GS1, "prefix": "gs1:"}]
    assert document["linkTypeDefaultCanBeLinkset"] is False


def test_resolver_is_throttled_like_the_public_page(client, app, batch):
    app.config["RATELIMIT_PUBLIC"] = "2/minute"
    assert client.get(f"/01/{GTIN}/10/B2026-11").status_code == 307
    assert client.get(f"/01/{GTIN}/10/B2026-11").status_code == 307
    refused = client.get(f"/01/{GTIN}/10/B2026-11")
    assert refused.status_code == 429 and "Retry-After" in refused.headers and "Link" in refused.headers


def test_an_sscc_of_ours_resolves_to_its_pallet_page(app, client, make):
    from tests.api.test_pallets_api import body, with_prefix  # a pallet packed through the API

    packer = with_prefix(app, make)
    case = make.certificate(packer)
    packed = client.post("/api/v1/events", json=body((case, "5")), headers=packer.headers)
    sscc = packed.json["details"]["sscc"]
    response = client.get(f"/00/{sscc}")
    assert response.status_code == 307 and response.headers["Location"].endswith(f"/p/{sscc}")
    assert "Link" in response.headers
    linkset = client.get(f"/00/{sscc}?linkType=all").json
    assert linkset["linkset"][0]["anchor"].endswith(f"/00/{sscc}")


def test_another_organisation_printing_the_gtin_does_not_take_over_its_product_page(app, client, make, batch):
    from datetime import timedelta

    from traceapp.orgs import members

    squatter = make.member()
    make.certificate(
        squatter, gtin=GTIN, product_name="FAKEPRODUCT", issued_at=batch.issued_at + timedelta(hours=1)
    )
    page = client.get(f"/products/{GTIN}").get_data(as_text=True)
    assert "西兰花" in page and "FAKEPRODUCT" not in page  # the first to use the GTIN
    owner = make.member()  # the organisation whose GS1 company prefix the GTIN carries
    with app.test_request_context():
        members.set_company_prefix(make.session, owner.actor, prefix=GTIN[1:8])
    make.certificate(
        owner, gtin=GTIN, product_name="正品西兰花", issued_at=batch.issued_at + timedelta(hours=2)
    )
    assert "正品西兰花" in client.get(f"/products/{GTIN}").get_data(as_text=True)
