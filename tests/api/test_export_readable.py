"""Recall spreadsheets a person can use: each event's time in the local time of the
organisation that recorded it, with its offset; with Chinese columns, Chinese values; in XLSX,
quantities that are numbers; the operator behind the lot code (credit code, address, phone).
Read back with openpyxl and the csv module."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.api.test_events_api import post
from tests.api.test_operators_api import CREDIT
from tests.api.test_trace_recall_api import recall
from tests.factories import certificate_body
from traceapp.orgs.models import OrgKind

SHIPPED_AT = "2026-11-21T08:00:00+08:00"  # 00:00 UTC


@pytest.fixture()
def journey(client, make):
    """A producer in Beijing time ships to a market in Berlin, which records the receipt; a
    regulator recalls the batch."""
    producer = make.member(timezone="Asia/Shanghai", phone="027-8388 1234", address="黄陂区前川街 1 号")
    market = make.member(OrgKind.MARKET, timezone="Europe/Berlin")
    regulator = make.member(OrgKind.REGULATOR, timezone="America/New_York")
    client.patch("/api/v1/organisation", json={"credit_code": CREDIT}, headers=producer.headers)
    issued = client.post(
        "/api/v1/certificates", json=certificate_body(quantity="12.5"), headers=producer.headers
    )
    code = issued.json["trace_code"]
    shipped = post(
        client,
        producer,
        kind="shipping",
        trace_code=code,
        quantity="12.5",
        unit="kg",
        to_org=str(market.org.id),
        occurred_at=SHIPPED_AT,
    )
    assert shipped.status_code == 201, shipped.json
    received = post(
        client,
        market,
        kind="receiving",
        trace_code=code,
        quantity="12.5",
        unit="kg",
        occurred_at="2026-11-21T10:00:00+01:00",  # 09:00 UTC
    )
    assert received.status_code == 201, received.json
    opened = recall(client, regulator, [code])
    assert opened.status_code == 201, opened.json
    return regulator, opened.json["id"]


def csv_rows(client, regulator, recall_id: str, columns: str = "en") -> list[dict[str, str]]:
    url = f"/api/v1/recalls/{recall_id}/export.csv?columns={columns}"
    text = client.get(url, headers=regulator.headers).get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def xlsx_rows(client, regulator, recall_id: str, columns: str = "en") -> list[dict[str, object]]:
    url = f"/api/v1/recalls/{recall_id}/export.xlsx?columns={columns}"
    sheet = load_workbook(io.BytesIO(client.get(url, headers=regulator.headers).data), read_only=True).active
    header, *body = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in body]


def test_each_event_is_in_the_local_time_of_who_recorded_it(client, journey):
    rows = {r["event_kind"]: r for r in csv_rows(client, *journey)}
    assert rows["shipping"]["event_time"] == "2026-11-21T08:00:00+08:00"  # the producer's Beijing time
    assert rows["receiving"]["event_time"] == "2026-11-21T10:00:00+01:00"  # the market's Berlin time
    assert rows["receiving"]["event_date"] == "2026-11-21"
    # Not the regulator's New York time, which the export used to give every row.
    assert not any(r["event_time"].endswith("-05:00") for r in rows.values())


def test_quantities_are_numbers_in_xlsx_and_decimal_text_in_csv(client, journey):
    for row in xlsx_rows(client, *journey):
        assert isinstance(row["quantity"], (int, float)) and Decimal(str(row["quantity"])) == Decimal("12.5")
    assert {r["quantity"] for r in csv_rows(client, *journey)} == {"12.5"}


def test_chinese_columns_carry_chinese_values(client, journey):
    for rows in (csv_rows(client, *journey, "zh"), xlsx_rows(client, *journey, "zh")):
        kinds = {r["事件"] for r in rows}
        assert kinds == {"开具合格证", "发货", "收货"}
        assert {r["关键追溯事件"] for r in rows} == {"采收／初次包装", "发货", "收货"}
        assert {r["单位"] for r in rows} == {"千克"}
        assert {r["批次状态"] for r in rows} == {"已召回"}
        assert {r["承诺依据"] for r in rows} == {"自我检测"}
        assert {r["角色"] for r in rows} == {"本批次"}


def test_english_columns_keep_the_codes_scripts_sort_on(client, journey):
    rows = csv_rows(client, *journey)
    assert {r["event_kind"] for r in rows} == {"commissioning", "shipping", "receiving"}
    assert {r["unit_of_measure"] for r in rows} == {"kg"} and {r["batch_status"] for r in rows} == {
        "recalled"
    }


def test_the_operator_behind_the_lot_code_is_described(client, journey):
    for rows in (csv_rows(client, *journey), xlsx_rows(client, *journey)):
        assert {r["tlc_source_credit_code"] for r in rows} == {CREDIT}
        assert {r["tlc_source_address"] for r in rows} == {"黄陂区前川街 1 号"}
        assert {r["tlc_source_phone"] for r in rows} == {"027-8388 1234"}


def test_the_xlsx_filter_covers_every_column(client, journey):
    regulator, recall_id = journey
    data = client.get(f"/api/v1/recalls/{recall_id}/export.xlsx", headers=regulator.headers).data
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}1"
    assert sheet.cell(1, sheet.max_column).value == "tlc_source_phone"
