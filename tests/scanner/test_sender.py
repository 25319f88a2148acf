"""How the outbox treats each kind of answer, including those only a proxy in front of the server
gives (a 502 HTML page, a 429): the proxy is the one external party played here by a stub."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scanner_client.client import ClientError, TraceClient
from scanner_client.outbox import Outbox
from scanner_client.sender import Sender, backoff

# status, content type, body: one answer per POST, in order
ANSWERS: list[tuple[int, str, bytes]] = []


class Proxy(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        self.rfile.read(int(self.headers["Content-Length"]))
        status, kind, body = ANSWERS.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture()
def proxy() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()
    ANSWERS.clear()


def problem(status: int, detail: str) -> tuple[int, str, bytes]:
    body = {
        "type": "about:blank",
        "title": "Conflict",
        "status": status,
        "detail": detail,
        "errors": [{"field": "/event_id", "message": detail}],
    }
    return status, "application/problem+json", json.dumps(body).encode()


@pytest.fixture()
def queued(tmp_path: Path) -> Iterator[Outbox]:
    with Outbox(tmp_path / "outbox.sqlite3") as outbox:
        for code in "ABCD":
            scan = outbox.add(code=code, scanned_at="2026-11-21T08:00:00+08:00", options={})
            outbox.set_body(scan.id, json.dumps({"event_id": scan.event_id}))
        yield outbox


def test_each_answer_moves_a_scan_where_it_belongs(proxy, queued):
    ANSWERS.extend(
        [
            (201, "application/json", b"{}"),
            (502, "text/html", b"<h1>Bad Gateway</h1>"),
            problem(409, "This event_id was already used with a different body."),
            (200, "application/json", b"{}"),
        ]
    )
    with TraceClient(proxy, "token") as client:
        report = Sender(queued, client, clock=lambda: 1000.0).flush()
    assert (report.sent, report.retrying, len(report.rejected), report.stopped) == (2, 1, 1, None)
    retry = queued.get(2)
    assert retry.state == "pending" and retry.http_status == 502 and "Bad Gateway" in retry.last_error
    assert retry.retry_at == 1000.0 + backoff(1)
    refused = queued.get(3)
    assert refused.state == "rejected" and refused.detail.startswith("This event_id was already used")
    assert refused.errors == [{"field": "/event_id", "message": refused.detail}]
    assert queued.due(now=1000.0) == [] and [s.id for s in queued.due()] == [2]


@pytest.mark.parametrize(
    "answer",
    [
        (401, "application/problem+json", b'{"detail": "bad token"}'),
        (429, "text/plain", b"slow down"),
        (307, "text/html", b""),
    ],
)
def test_answers_that_say_nothing_about_the_scan_stop_the_flush_and_keep_it_pending(proxy, queued, answer):
    ANSWERS.append(answer)
    with TraceClient(proxy, "token") as client:
        report = Sender(queued, client).flush()
    assert report.stopped and report.sent == 0 and queued.counts()["pending"] == 4
    assert queued.get(1).retry_at is None  # due again as soon as the server takes it


def test_a_problem_is_explained_with_its_fields():
    error = ClientError(
        422, "Invalid input.", "Invalid input", [{"field": "/result", "message": "must be rejected"}]
    )
    assert error.explained() == "Invalid input.; /result: must be rejected" and not error.transient
    assert str(error) == "422 Invalid input: Invalid input." and ClientError(503, "down").transient
    assert [backoff(n) for n in (0, 1, 2, 3, 20)] == [2.0, 2.0, 4.0, 8.0, 300.0]
