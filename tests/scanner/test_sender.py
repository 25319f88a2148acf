"""How the outbox treats each kind of answer, including those only a proxy in front of the server
gives (a 502 HTML page, a 429): the proxy is the one external party played here by a stub."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from scanner_client.client import ClientError, TraceClient
from scanner_client.outbox import Outbox
from scanner_client.sender import Sender, backoff

# status, content type, body[, headers]: one answer per POST, in order; batch requests get theirs
# from BATCH_ANSWERS, and a 404 (a server without the batch path) when none is left
ANSWERS: list[tuple[Any, ...]] = []
BATCH_ANSWERS: list[tuple[Any, ...]] = []
#: (path, body) of every request the proxy received
REQUESTS: list[tuple[str, bytes]] = []
NOT_FOUND = (404, "application/problem+json", b'{"status": 404, "detail": "Not Found"}')


class Proxy(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        REQUESTS.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
        if self.path.endswith("/batch"):
            answer = BATCH_ANSWERS.pop(0) if BATCH_ANSWERS else NOT_FOUND
        else:
            answer = ANSWERS.pop(0)
        status, kind, body, *headers = answer
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers[0] if headers else {}).items():
            self.send_header(name, value)
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
    BATCH_ANSWERS.clear()
    REQUESTS.clear()


def problem_document(status: int, detail: str) -> dict[str, Any]:
    return {
        "type": "about:blank",
        "title": "Conflict",
        "status": status,
        "detail": detail,
        "errors": [{"field": "/event_id", "message": detail}],
    }


def problem(status: int, detail: str) -> tuple[int, str, bytes]:
    return status, "application/problem+json", json.dumps(problem_document(status, detail)).encode()


def batch_answer(*outcomes: tuple[int, dict[str, Any] | None], outbox: Outbox) -> tuple[int, str, bytes]:
    """A 200 batch answer with one result per pending scan, in order."""
    scans = outbox.due()
    results = [
        {"index": i, "event_id": scan.event_id, "status": status, **({"problem": doc} if doc else {})}
        for i, (scan, (status, doc)) in enumerate(zip(scans, outcomes, strict=False))
    ]
    return 200, "application/json", json.dumps({"results": results, "counts": {}}).encode()


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
    # a server without the batch path (404) is asked once, then gets one POST per scan
    assert [path for path, _ in REQUESTS] == ["/api/v1/events/batch"] + ["/api/v1/events"] * 4


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


def test_one_batch_request_carries_the_page_and_each_outcome_moves_its_own_scan(proxy, queued):
    bodies = [scan.body for scan in queued.due()]
    BATCH_ANSWERS.append(
        batch_answer(
            (201, None),
            (200, None),
            (409, problem_document(409, "This event_id was already used with a different body.")),
            (503, problem_document(503, "Try again.")),
            outbox=queued,
        )
    )
    with TraceClient(proxy, "token") as client:
        report = Sender(queued, client, clock=lambda: 1000.0).flush()
    assert (report.sent, report.retrying, len(report.rejected), report.stopped) == (2, 1, 1, None)
    assert REQUESTS == [("/api/v1/events/batch", ('{"events":[' + ",".join(bodies) + "]}").encode())]
    assert [queued.get(i).state for i in (1, 2, 3, 4)] == ["sent", "sent", "rejected", "pending"]
    assert (queued.get(1).http_status, queued.get(2).http_status) == (201, 200)
    refused = queued.get(3)
    assert refused.detail.startswith("This event_id was already used") and refused.http_status == 409
    assert refused.errors == [{"field": "/event_id", "message": refused.detail}]
    assert queued.get(4).retry_at == 1000.0 + backoff(1) and "Try again." in queued.get(4).last_error


def test_an_outcome_missing_from_the_answer_leaves_its_scan_pending(proxy, queued):
    BATCH_ANSWERS.append(batch_answer((201, None), (201, None), outbox=queued))
    with TraceClient(proxy, "token") as client:
        report = Sender(queued, client, clock=lambda: 1000.0).flush()
    assert (report.sent, report.retrying) == (2, 2) and queued.counts()["pending"] == 2
    assert "no outcome" in queued.get(3).last_error


def test_a_503_for_the_whole_batch_leaves_the_page_pending_as_long_as_the_server_asked(proxy, queued):
    BATCH_ANSWERS.append((*problem(503, "Busy."), {"Retry-After": "120"}))
    with TraceClient(proxy, "token") as client:
        report = Sender(queued, client, clock=lambda: 1000.0).flush()
    assert (report.sent, report.retrying, report.stopped) == (0, 4, None)
    assert {scan.retry_at for scan in queued.due()} == {1120.0} and queued.counts()["pending"] == 4
    assert REQUESTS[0][0] == "/api/v1/events/batch" and len(REQUESTS) == 1


@pytest.mark.parametrize(
    "answer",
    [
        (401, "application/problem+json", b'{"detail": "bad token"}'),
        (429, "text/plain", b"slow down"),
        (307, "text/html", b""),
    ],
)
def test_a_whole_batch_answer_that_says_nothing_about_the_scans_stops_the_flush(proxy, queued, answer):
    BATCH_ANSWERS.append(answer)
    with TraceClient(proxy, "token") as client:
        report = Sender(queued, client).flush()
    assert report.stopped and report.sent == 0 and queued.counts()["pending"] == 4
    assert {scan.retry_at for scan in queued.due()} == {None} and len(REQUESTS) == 1


def test_a_batch_too_large_for_the_server_is_sent_again_in_halves(proxy, queued):
    scans = queued.due()
    half = lambda part: (  # noqa: E731
        200,
        "application/json",
        json.dumps(
            {"results": [{"index": i, "event_id": s.event_id, "status": 201} for i, s in enumerate(part)]}
        ).encode(),
    )
    BATCH_ANSWERS.extend([problem(413, "Too large."), half(scans[:2]), half(scans[2:])])
    with TraceClient(proxy, "token") as client:
        report = Sender(queued, client).flush()
    assert report.sent == 4 and queued.counts()["sent"] == 4 and report.batches == 3
    assert [len(json.loads(body)["events"]) for _, body in REQUESTS] == [4, 2, 2]


def test_pages_respect_the_batch_size_and_the_limit(proxy, queued):
    scans = queued.due()
    BATCH_ANSWERS.append(
        (
            200,
            "application/json",
            json.dumps(
                {
                    "results": [
                        {"index": i, "event_id": s.event_id, "status": 201} for i, s in enumerate(scans[:3])
                    ]
                }
            ).encode(),
        )
    )
    with TraceClient(proxy, "token") as client:
        report = Sender(queued, client, page=3).flush(limit=3)
    assert report.sent == 3 and report.more and queued.counts() == {"pending": 1, "sent": 3, "rejected": 0}
    assert [len(json.loads(body)["events"]) for _, body in REQUESTS] == [3]
