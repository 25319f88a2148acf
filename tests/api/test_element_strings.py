"""A case label's GS1-128 as a handheld scanner delivers it (FNC1 as GS, perhaps ``]C1`` first),
the same data typed in brackets, or a pallet's SSCC (00), accepted wherever a code is taken:
the look-up page, the gate page, ``/api/v1/codes``, ``/api/v1/trace``, the EPCIS export and the
events API. The lot is the producer's lot number or the trace code. A bad check digit or a GTIN
we do not know is said plainly, in the reader's language."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

import pytest

from tests.api.test_events_api import post
from tests.api.test_pallets_api import body as pallet_body
from tests.api.test_pallets_api import with_prefix
from tests.web.test_certificate_pages import sign_in
from traceapp import gs1
from traceapp.orgs.models import OrgKind

GTIN = "10614141000415"
GS = "\x1d"
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
UNKNOWN_GTIN = "09506000134352"  # a valid GTIN no batch of ours has
BAD_CHECK = GTIN[:-1] + str((int(GTIN[-1]) + 1) % 10)


def scans(lot: str, gtin: str = GTIN) -> list[str]:
    """The ways one GTIN + lot reaches us: as a scanner sends the GS1-128 (with and without the
    symbology identifier, FNC1 as GS after a variable-length value), typed in brackets."""
    return [
        f"]C101{gtin}10{lot}",
        f"01{gtin}10{lot}",
        f"]C101{gtin}10{lot}{GS}21X1",
        f"(01){gtin}(10){lot}",
        f"  (01){gtin}(13)261204(10){lot}\r\n",
    ]


@pytest.fixture()
def batch(make):
    producer = make.member()
    certificate = make.certificate(producer, gtin=GTIN, batch_no="LOT-7", quantity=Decimal("100"))
    return producer, certificate


def test_code_api_resolves_every_spelling_of_gtin_and_producer_lot(client, make, batch):
    producer, certificate = batch
    market = make.member(OrgKind.MARKET)
    for scanned in [*scans("LOT-7"), *scans(certificate.trace_code)]:
        answer = client.get(f"/api/v1/codes/{quote(scanned, safe='')}", headers=market.headers)
        assert answer.status_code == 200, (scanned, answer.json)
        assert answer.json["certificate"]["trace_code"] == certificate.trace_code
    trace = client.get(f"/api/v1/trace/{quote(scans('LOT-7')[0])}", headers=producer.headers)
    assert trace.status_code == 200
    epcis = client.get(f"/api/v1/codes/{quote(scans('LOT-7')[3])}/epcis", headers=producer.headers)
    assert epcis.status_code == 200 and epcis.mimetype == "application/ld+json"


@pytest.mark.parametrize(
    ("scanned", "english", "chinese"),
    [
        (f"(01){BAD_CHECK}(10)LOT-7", "check digit is wrong", "校验位"),
        (f"]C101{UNKNOWN_GTIN}10LOT-7", "No batch here has this GTIN", "GTIN"),
        (f"(01){GTIN}(10)LOT-8", "no batch of it has this lot", "批号"),
        (f"(01){GTIN}", "no lot", "批号"),
        ("(01)123(10)A", "wrong length", "长度"),
    ],
)
def test_code_api_says_why_gs1_data_names_no_batch_in_both_languages(
    client, make, batch, scanned, english, chinese
):
    market = make.member(OrgKind.MARKET)
    url = f"/api/v1/codes/{quote(scanned, safe='')}"
    answer = client.get(url, headers={**market.headers, **EN})
    assert answer.status_code == 404 and answer.mimetype == "application/problem+json"
    assert english in answer.json["detail"], answer.json
    answer = client.get(url, headers={**market.headers, **ZH})
    assert chinese in answer.json["detail"], answer.json
    assert not any("a" <= c <= "z" for c in answer.json["detail"].replace("GTIN", "")), answer.json


def test_events_api_takes_a_scanned_element_string_as_the_trace_code(client, make, batch, dbsession):
    producer, certificate = batch
    answer = post(client, producer, kind="storing", trace_code=scans("LOT-7")[0])
    assert answer.status_code == 201, answer.json
    assert [item["trace_code"] for item in answer.json["items"]] == [certificate.trace_code]
    refused = post(client, producer, kind="storing", trace_code=f"(01){UNKNOWN_GTIN}(10)LOT-7")
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "/trace_code"
    assert "No batch here has this GTIN" in refused.get_data(as_text=True)


def test_another_organisation_does_not_get_through_an_element_string(client, make, batch):
    """Reading the batch by GTIN + lot gives no more than its trace code would: a stranger
    cannot record on it."""
    _producer, _certificate = batch
    stranger = make.member()
    answer = post(client, stranger, kind="storing", trace_code=scans("LOT-7")[3])
    assert answer.status_code in (403, 409, 422), answer.json
    assert (
        answer.status_code
        == post(client, stranger, kind="storing", trace_code=_certificate.trace_code).status_code
    )


def test_look_up_page_redirects_gs1_data_to_the_batch_and_an_sscc_to_its_pallet(app, client, make, batch):
    _producer, certificate = batch
    for scanned in scans("LOT-7"):
        answer = client.get("/t", query_string={"code": scanned})
        assert answer.status_code == 302 and answer.location.endswith(f"/t/{certificate.trace_code}")
    packer = with_prefix(app, make)
    on_pallet = make.certificate(packer)
    sent = pallet_body((on_pallet, "5"))
    sscc = client.post("/api/v1/events", json=sent, headers=packer.headers).json["details"]["sscc"]
    for scanned in (f"]C100{sscc}", f"(00){sscc}", f"00{sscc}"):
        answer = client.get("/t", query_string={"code": scanned})
        assert answer.status_code == 302 and answer.location.endswith(f"/p/{sscc}")
    other = sscc[:-2] + "9" + str(gs1.gtin_check_digit(sscc[:-2] + "9"))
    assert other != sscc
    missing = client.get("/t", query_string={"code": f"(00){other}"}, headers=EN)
    assert missing.status_code == 404 and "No pallet has this SSCC." in missing.get_data(as_text=True)


@pytest.mark.parametrize(
    ("scanned", "english", "chinese"),
    [
        (f"(01){BAD_CHECK}(10)LOT-7", "check digit is wrong", "校验位"),
        (f"(01){UNKNOWN_GTIN}(10)LOT-7", "No batch here has this GTIN", "GTIN"),
    ],
)
def test_look_up_and_gate_pages_say_why_in_both_languages(client, make, batch, scanned, english, chinese):
    page = client.get("/t", query_string={"code": scanned}, headers=EN)
    assert page.status_code == 404 and english in page.get_data(as_text=True)
    page = client.get("/t", query_string={"code": scanned}, headers=ZH)
    assert chinese in page.get_data(as_text=True)
    market = make.member(OrgKind.MARKET)
    sign_in(client, market)
    gate = client.get("/gate", query_string={"code": scanned}, headers=EN)
    assert gate.status_code == 404 and english in gate.get_data(as_text=True)
    assert chinese in client.get("/gate", query_string={"code": scanned}, headers=ZH).get_data(as_text=True)


def test_gate_page_checks_the_batch_of_a_scanned_case_label(client, make, batch):
    _producer, certificate = batch
    market = make.member(OrgKind.MARKET)
    sign_in(client, market)
    page = client.get("/gate", query_string={"code": scans("LOT-7")[0]}, headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="verdict"' in html and certificate.trace_code[:4] in html


def test_oversize_and_hostile_input_is_refused_not_a_500(client, make, batch):
    market = make.member(OrgKind.MARKET)
    for scanned in ("(01)" + "9" * 5000, "(01" + GTIN, f"]C1{GS * 40}", "(10)<script>"):
        answer = client.get(f"/api/v1/codes/{quote(scanned, safe='')}", headers=market.headers)
        assert answer.status_code in (404, 414, 422), scanned
        page = client.get("/t", query_string={"code": scanned})
        assert page.status_code in (404, 414, 422) and "<script>" not in page.get_data(as_text=True)


def test_a_recall_names_why_a_gs1_code_names_no_batch(client, make, batch):
    producer, certificate = batch
    recall = {"trace_codes": [scans("LOT-7")[0]], "reason": "农残超标", "severity": "class_ii"}
    answer = client.post("/api/v1/recalls", json=recall, headers={**producer.headers, **EN})
    assert answer.status_code == 201, answer.json
    assert answer.json["trace_codes"] == [certificate.trace_code]
    recall["trace_codes"] = [f"(01){BAD_CHECK}(10)LOT-7"]
    answer = client.post("/api/v1/recalls", json=recall, headers={**producer.headers, **EN})
    assert answer.status_code == 422 and answer.json["errors"][0]["field"] == "/trace_codes/0"
    assert "check digit is wrong" in answer.json["errors"][0]["message"]
