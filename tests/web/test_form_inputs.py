"""Hostile input on the forms: the form again with the message beside the field, in the user's
language, and nothing written (never a 500, even on PostgreSQL, which refuses NUL)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from tests.api.test_input_limits import png_declaring
from tests.web.test_certificate_pages import FORM, sign_in
from traceapp.certificates.models import Certificate
from traceapp.certificates.models import TestReport as StoredReport
from traceapp.events.models import Event

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def count(dbsession, model) -> int:
    return dbsession.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize(
    ("field", "value", "lang", "message"),
    [
        ("product_name", "白菜\x00", "en", "Text may not contain a NUL character"),
        ("origin.address", "\x00", "zh", "文本不能包含 NUL 字符"),
        ("quantity", "1e3", "en", "Enter the quantity in digits"),
        ("quantity", "1e3", "zh", "请用数字填写数量"),
        ("batch_no", "x" * 41, "en", "At most 40 characters."),
    ],
)
def test_a_hostile_field_re_renders_the_issue_form_in_the_users_language(
    client, make, dbsession, field, value, lang, message
):
    sign_in(client, make.member())
    response = client.post(f"/certificates/new?lang={lang}", data={**FORM, field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html and message in html
    assert count(dbsession, Certificate) == 0


def _with_files(*files: tuple[bytes, str]) -> MultiDict:
    form = MultiDict(
        [(k, v) for k, values in FORM.items() for v in (values if isinstance(values, list) else [values])]
    )
    form.setlist("basis", ["commissioned_test"])
    form.add("test_report.lab_name", "武汉检测中心")
    form.add("test_report.report_number", "WH-1")
    for content, name in files:
        form.add("file", (io.BytesIO(content), name))
    return form


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([(PDF, "a.pdf"), (PDF, "b.pdf")], "只能上传一个文件"),
        ([(png_declaring(20_000, 20_000), "bomb.png")], "百万像素"),
    ],
    ids=["two-files", "decompression-bomb"],
)
def test_a_bad_report_upload_re_renders_the_form_and_stores_nothing(client, make, dbsession, files, message):
    sign_in(client, make.member())
    response = client.post(
        "/certificates/new?lang=zh", data=_with_files(*files), content_type="multipart/form-data"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="file-error"' in html and message in html
    assert count(dbsession, Certificate) == 0 and count(dbsession, StoredReport) == 0


@pytest.fixture()
def batch(make):
    producer = make.member()
    return producer, make.certificate(producer, quantity=Decimal("100"))


def _event_form(code: str, **fields: str) -> dict[str, str]:
    return {
        "kind": "storing",
        "event_id": str(uuid.uuid4()),
        "trace_code": code,
        "occurred_at": "2026-11-21T09:00",
        "location": "冷库",
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "error_id", "message"),
    [
        ({"location": "冷库\x00"}, "location", "Text may not contain a NUL character"),
        ({"note": "\x00"}, "note", "Text may not contain a NUL character"),
        (
            {"occurred_at": (datetime.now(UTC) + timedelta(days=800)).strftime("%Y-%m-%dT%H:%M")},
            "occurred_at",
            "ahead of the server",
        ),
    ],
    ids=["location", "note", "years-ahead"],
)
def test_a_hostile_event_field_re_renders_the_event_form(client, batch, dbsession, fields, error_id, message):
    producer, certificate = batch
    sign_in(client, producer)
    response = client.post("/events/new?lang=en", data=_event_form(certificate.trace_code, **fields))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{error_id}-error"' in html and message in html
    assert count(dbsession, Event) == 0


def test_two_logger_files_re_render_the_event_form(client, batch, dbsession):
    producer, certificate = batch
    sign_in(client, producer)
    csv = b"timestamp,temperature\n2026-11-21T09:00:00+08:00,2\n"
    form = MultiDict(_event_form(certificate.trace_code))
    form.add("logger_file", (io.BytesIO(csv), "a.csv"))
    form.add("logger_file", (io.BytesIO(csv), "b.csv"))
    response = client.post("/events/new?lang=zh", data=form, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="logger_file-error"' in html and "只能上传一个文件" in html
    assert count(dbsession, Event) == 0


@pytest.mark.parametrize(
    ("lang", "message"), [("en", "Text may not contain a NUL character"), ("zh", "NUL 字符")]
)
def test_a_nul_in_the_sign_in_form_is_told_not_a_server_error(client, make, dbsession, lang, message):
    member = make.member()
    before = dbsession.scalar(sa.text("SELECT count(*) FROM audit_log"))
    for email, password in ((member.user.email + "\x00", "x"), (member.user.email, "pass\x00word")):
        response = client.post(
            "/login", data={"login": email, "password": password}, headers={"Accept-Language": lang}
        )
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert dbsession.scalar(sa.text("SELECT count(*) FROM audit_log")) == before
