"""The scanner's answer, the public page and the recall export show one status for a batch."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from tests.api.test_events_api import handover_code, post
from tests.api.test_journey_api import gate
from traceapp.orgs.models import OrgKind

#: The banner each status puts on the public page (English).
BANNERS = {
    "valid": "Valid certificate",
    "revoked": "REVOKED: this certificate is no longer valid",
    "recalled": "RECALLED: do not eat or sell this product",
    "failed_inspection": "This batch failed inspection at a market gate",
}


def revoke(client, producer, certificate):
    url = f"/api/v1/certificates/{certificate.id}/revoke"
    assert client.post(url, json={"reason": "错填数量"}, headers=producer.headers).status_code == 200


def reject_at_gate(client, market, certificate, holder=None):
    """A rejection by ``market``; with the ``holder``'s hand-over code it is the batch's verdict
    (the market had it in front of it), without one only that market's claim."""
    extra = {"handover_code": handover_code(client, holder, certificate)} if holder else {}
    response = post(
        client,
        market,
        kind="inspecting",
        trace_code=certificate.trace_code,
        certificate_status="valid",
        result="rejected",
        quantity="10",
        unit="kg",
        tests=[{"method": "enzyme_inhibition", "item": "有机磷", "value": "62"}],
        **extra,
    )
    assert response.status_code == 201, response.json
    return response.json


def void(client, member, event, reason):
    response = post(
        client, member, kind="voiding", corrects={"event_id": event["event_id"], "reason": reason}
    )
    assert response.status_code == 201, response.json


def open_recall(client, regulator, certificate):
    body = {"trace_codes": [certificate.trace_code], "reason": "农残超标", "severity": "class_i"}
    response = client.post("/api/v1/recalls", json=body, headers=regulator.headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ((), "valid"),
        (("revoked",), "revoked"),
        (("failed",), "failed_inspection"),
        (("failed", "voided"), "valid"),
        (("recalled",), "recalled"),
        (("failed", "recalled"), "recalled"),
        (("revoked", "failed"), "revoked"),
        (("revoked", "recalled"), "revoked"),
    ],
    ids=lambda v: ("+".join(v) or "nothing") if isinstance(v, tuple) else v,
)
def test_the_code_answer_the_public_page_and_the_export_agree_on_the_status(client, make, facts, expected):
    producer, market, regulator = make.member(), make.member(OrgKind.MARKET), make.member(OrgKind.REGULATOR)
    certificate = make.certificate(producer, quantity=Decimal("10"))
    if "failed" in facts:
        rejection = reject_at_gate(client, market, certificate, producer)
        if "voided" in facts:
            void(client, market, rejection, "试纸批次过期，复检阴性")
    if "revoked" in facts:
        revoke(client, producer, certificate)
    recall_id = open_recall(client, regulator, certificate) if "recalled" in facts else None

    answer = client.get(f"/api/v1/codes/{certificate.trace_code}", headers=market.headers).json
    assert answer["status"] == expected
    page = client.get(f"/t/{certificate.trace_code}?lang=en").get_data(as_text=True)
    assert BANNERS[expected] in page
    assert [b for s, b in BANNERS.items() if b in page and s != expected] in ([], [BANNERS["recalled"]])
    if recall_id:
        export = client.get(f"/api/v1/recalls/{recall_id}/export.csv", headers=regulator.headers)
        rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
        assert rows and {r["batch_status"] for r in rows} == {expected}


def test_a_closed_recall_exports_its_batches_with_the_status_they_have_now(client, make):
    producer, regulator = make.member(), make.member(OrgKind.REGULATOR)
    certificate = make.certificate(producer, quantity=Decimal("10"))
    recall_id = open_recall(client, regulator, certificate)
    url = f"/api/v1/recalls/{recall_id}"
    closed = client.post(f"{url}/close", json={"note": "复检合格"}, headers=regulator.headers)
    assert closed.status_code == 200
    export = client.get(f"{url}/export.csv?columns=zh", headers=regulator.headers).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(export.lstrip("\ufeff"))))
    assert {r["批次状态"] for r in rows} == {"有效"}  # Chinese columns, Chinese values


def test_a_portion_cut_from_a_batch_rejected_at_a_gate_has_one_status_everywhere(client, make):
    producer, regulator = make.member(), make.member(OrgKind.REGULATOR)
    first, second = make.member(OrgKind.MARKET), make.member(OrgKind.MARKET)
    source = make.certificate(producer, quantity=Decimal("100"))
    reject_at_gate(client, first, source, producer)  # refused at one market, taken in at another
    accepted = gate(client, second, source, holder=producer, quantity="100")
    assert accepted.status_code == 201, accepted.json
    cut = post(
        client,
        second,
        kind="portioning",
        trace_code=source.trace_code,
        outputs=[{"quantity": "5", "unit": "kg"}],
    )
    assert cut.status_code == 201, cut.json
    portion = cut.json["outputs"][0]["trace_code"]
    answer = client.get(f"/api/v1/codes/{portion}", headers=second.headers).json["status"]
    page = client.get(f"/t/{portion}?lang=en").get_data(as_text=True)
    assert answer == "failed_inspection" and BANNERS[answer] in page
    recall_id = open_recall(client, regulator, source)  # the recall outranks the rejection...
    assert client.get(f"/api/v1/codes/{portion}", headers=second.headers).json["status"] == "recalled"
    url = f"/api/v1/recalls/{recall_id}"
    assert (
        client.post(f"{url}/close", json={"note": "复检合格"}, headers=regulator.headers).status_code == 200
    )
    # ...and once it is closed the export tells what the scanner and the page tell.
    export = client.get(f"{url}/export.csv", headers=regulator.headers).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(export.lstrip("\ufeff"))))
    assert {r["batch_status"] for r in rows if r["traceability_lot_code"] == portion} == {answer}
