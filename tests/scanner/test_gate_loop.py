"""The gate loop in-process, on a clock the test controls, against the real server."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner_client.client import TraceClient
from scanner_client.gate import Gate
from scanner_client.outbox import Outbox
from scanner_client.verdict import Screen, block_letters, display_width
from tests.factories import certificate_body
from tests.live import free_port
from tests.scanner.conftest import api, inspections

pytestmark = pytest.mark.e2e


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def gate_for(tmp_path: Path, parties):  # type: ignore[no-untyped-def]
    """``gate_for(url)``: a Gate on a fresh outbox, its screen and clock; closed afterwards."""
    opened = []

    def make(url: str) -> tuple[Gate, io.StringIO, Clock]:
        outbox = Outbox(tmp_path / f"outbox-{len(opened)}.sqlite3")
        client = TraceClient(url, parties.market.token, language="en")
        opened.extend([outbox, client])
        out, clock = io.StringIO(), Clock()
        gate = Gate(outbox=outbox, client=client, screen=Screen(out), location="西门", clock=clock)
        return gate, out, clock

    yield make
    for thing in opened:
        thing.close()


def test_options_typed_before_a_scan_apply_to_that_scan_only(gate_for, server, parties, issue):
    gate, out, _clock = gate_for(server.url)
    first, second = issue()["trace_code"], issue()["trace_code"]
    for code in (first, second):  # the producer ships both to the market: the gate may take them in
        shipped = {
            "event_id": str(uuid.uuid4()),
            "occurred_at": datetime.now(UTC).isoformat(),
            "kind": "shipping",
            "trace_code": code,
            "quantity": "500",
            "unit": "kg",
            "to_org": parties.market.org_id,
        }
        status, document = api(server, "POST", "/api/v1/events", parties.producer.token, shipped)
        assert status == 201, document
    for line in ("| qty=7 | test=gold:克伦特罗:negative", first, second):
        gate.handle(line)
    assert "options for the next scan: qty=7 | test=gold:克伦特罗:negative" in out.getvalue()
    [event] = inspections(server, parties, first)
    assert event["items"][0]["quantity"] == "7" and event["details"]["tests"][0]["item"] == "克伦特罗"
    [event] = inspections(server, parties, second)
    assert event["items"][0]["quantity"] == "500" and event["details"]["tests"] == []


def test_only_a_read_within_a_second_of_the_last_is_a_repeat(gate_for, server, parties, issue):
    gate, out, clock = gate_for(server.url)
    code = issue()["trace_code"]
    gate.handle(f"{code} | qty=1")
    clock.now += 0.5
    gate.handle(f"{code} | qty=1")
    clock.now += 1.5
    gate.handle(f"{code} | qty=1")
    assert out.getvalue().count("read again within 1 s") == 1
    assert len(inspections(server, parties, code)) == 2


def test_an_unreachable_server_is_not_asked_again_until_its_pause_is_over(gate_for, issue):
    gate, out, clock = gate_for(f"http://127.0.0.1:{free_port()}")
    codes = [issue()["trace_code"] for _ in range(3)]
    gate.handle(codes[0])
    gate.handle(codes[1])  # within the pause: no network at all
    assert out.getvalue().count("OFFLINE: queued") == 2
    assert "connection refused" in out.getvalue() and "2 waiting to be sent" in out.getvalue()
    clock.now += 5
    gate.handle(codes[2])
    gate.finish()
    assert gate.outbox.counts() == {"pending": 3, "sent": 0, "rejected": 0}
    assert "Session: 3 offline." in out.getvalue()


def test_a_case_labels_gs1_128_records_the_check_on_the_batch_of_its_gtin_and_lot(gate_for, server, parties):
    """The scanner sends ``]C1`` + (01) GTIN + (10) the producer's lot: the server resolves it."""
    status, issued = api(
        server,
        "POST",
        "/api/v1/certificates",
        parties.producer.token,
        certificate_body(gtin="10614141000415", batch_no=f"L{uuid.uuid4().hex[:8]}"),
    )
    assert status == 201, issued
    gate, out, _clock = gate_for(server.url)
    gate.handle("]C10110614141000415" + "10" + issued["batch_no"])
    assert "ACCEPT" in out.getvalue()
    [event] = inspections(server, parties, issued["trace_code"])
    assert event["kind"] == "inspecting"
    gate.handle("]C10109506000134352" + "10" + issued["batch_no"])  # a GTIN the server does not know
    assert "No batch here has this GTIN" in out.getvalue()


def test_an_unknown_code_is_rejected_and_kept_but_not_recorded(gate_for, server):
    from scanner_client.codes import check_symbol

    gate, out, _clock = gate_for(server.url)
    gate.handle("3333333333333" + check_symbol("3333333333333"))
    assert "unknown code: No certificate has this trace code." in out.getvalue()
    assert "\a" in out.getvalue() and gate.outbox.counts()["rejected"] == 1


def test_colour_is_only_for_terminals_and_the_box_fits_chinese_text():
    plain, coloured = io.StringIO(), io.StringIO()
    Screen(plain).banner("REJECT", "reject", ["why: 证书已撤销"], ring=True)
    Screen(coloured, colour=True).banner("REJECT", "reject", ["why: 证书已撤销"])
    assert "\033[" not in plain.getvalue() and plain.getvalue().startswith("\a┏")
    assert "\033[1;97;41m" in coloured.getvalue()
    widths = {display_width(line) for line in plain.getvalue().lstrip("\a").splitlines()}
    assert len(widths) == 1  # every row of the box is as wide as the others
    assert len(block_letters("OFFLINE")) == 5
