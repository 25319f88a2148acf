"""Send the outbox to the server, oldest first, so that nothing is lost or recorded twice.

Pending scans go in pages (200 by default, at most 1,000: the server's limit), each page as one
``POST /api/v1/events/batch``. The server judges each event on its own, so each scan gets the
outcome it would have had alone, and the outcomes of one page are written to the outbox in one
commit. A server without the batch path (404 or 405 to it) gets one ``POST /api/v1/events`` per
scan instead, and so does a page of one scan (the gate sending the scan it just checked).

Per scan: a 2xx marks it sent (200 is the server recognising a replay of the same event_id and
body). A refusal (4xx other than 401, 408, 425, 429) moves it to rejected with the server's
detail. No answer at all, a bad token (401) or a redirect leaves it pending and stops the
flush, since the next scans would fare the same; a server error (5xx) leaves it pending with
its own backoff (2, 4, 8 ... up to 300 s, or longer if the server said ``Retry-After``) and the
flush goes on with the next. An answer about the whole batch counts for every scan in it: 401,
a timeout or a redirect stops the flush; 5xx leaves the page pending with backoff; 413 or 422
(the page is larger than the server takes) sends it again in halves.

A scan queued without a verification (offline, never seen before) is verified first and its
body is then stored once and for all, before it is sent. One flush verifies each code once,
however many of its scans are queued (the server still checks every event it records).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scanner_client.client import ClientError, Offline, TraceClient, problem_of
from scanner_client.i18n import _
from scanner_client.inspection import GateOptions, Summary, inspection_body
from scanner_client.outbox import Outbox, Scan

MAX_BACKOFF = 300.0
#: Scans per batch request by default, and the most the server takes in one.
PAGE = 200
MAX_PAGE = 1000
#: Whole-request answers that mean "too much at once": the page is sent again in halves.
TOO_LARGE = frozenset({413, 422})
#: Whole-request answers from a server that has no batch path.
NO_BATCH_PATH = frozenset({404, 405})


def backoff(attempts: int) -> float:
    """Seconds to wait before the next try of a scan that has failed ``attempts`` times."""
    return min(2.0 ** max(attempts, 1), MAX_BACKOFF)


def body_for(scan: Scan, summary: Summary) -> str:
    """The inspection body of a queued scan, given what the server says about its batch."""
    return inspection_body(
        event_id=scan.event_id,
        code=scan.trace_code,
        occurred_at=scan.scanned_at,
        summary=summary,
        options=GateOptions.from_json(scan.options),
        location=scan.options.get("location"),
    )


@dataclass
class FlushReport:
    """What one flush did; ``stopped`` says why it ended before the queue did, if it did."""

    sent: int = 0
    retrying: int = 0
    rejected: list[tuple[Scan, ClientError]] = field(default_factory=list)
    stopped: str | None = None
    more: bool = False
    #: Requests sent through the batch path, and single POSTs.
    batches: int = 0
    singles: int = 0


Ready = list[tuple[Scan, str]]


class Sender:
    """Flushes one outbox through one client, ``page`` scans per request."""

    def __init__(
        self,
        outbox: Outbox,
        client: TraceClient,
        *,
        clock: Callable[[], float] = time.time,
        page: int = PAGE,
    ) -> None:
        if not 1 <= page <= MAX_PAGE:
            raise ValueError(f"a page holds 1 to {MAX_PAGE} scans, not {page}")
        self.outbox = outbox
        self.client = client
        self.clock = clock
        self.page = page
        #: False once the server answered 404/405 to the batch path (an older server).
        self.batch_path = True
        self._verified: dict[str, Summary | ClientError] = {}

    def flush(
        self, *, force: bool = True, limit: int | None = None, budget: float | None = None
    ) -> FlushReport:
        """Send pending scans oldest first.

        ``force`` ignores each scan's backoff (the operator asked); ``limit`` and ``budget``
        (seconds) bound the work, leaving ``more`` set when scans were left for later.
        """
        report = FlushReport()
        self._verified = {}
        deadline = time.monotonic() + budget if budget is not None else None
        last, count = 0, 0
        while True:
            now = None if force else self.clock()
            size = self.page if limit is None else min(self.page, limit - count)
            if size <= 0 or (deadline is not None and time.monotonic() > deadline):
                report.more = bool(self.outbox.due(after_id=last, limit=1, now=now))
                return report
            page = self.outbox.due(after_id=last, limit=size, now=now)
            if not page:
                return report
            last, count = page[-1].id, count + len(page)
            if not self._send_page(page, report):
                return report

    # -- one page --------------------------------------------------------------------------

    def _send_page(self, page: list[Scan], report: FlushReport) -> bool:
        """Complete and send one page; False when the flush should stop."""
        ready = self._complete(page, report)
        if ready is None:
            return False
        if len(ready) == 1 or not self.batch_path:
            return self._send_singles(ready, report)
        return self._send_batch(ready, report)

    def _send_singles(self, ready: Ready, report: FlushReport) -> bool:
        for scan, body in ready:
            try:
                status = self.client.record(body.encode("utf-8"))
            except Offline as error:
                self.outbox.mark_failed(scan.id, _("server unreachable: {error}").format(error=error))
                report.stopped = _("server unreachable: {error}").format(error=error)
                return False
            except ClientError as error:
                if not self._refused(scan, error, report):
                    report.stopped = _("the server refused the request: {error}").format(error=error)
                    return False
                continue
            finally:
                report.singles += 1
            self.outbox.mark_sent(scan.id, status)
            report.sent += 1
        return True

    def _send_batch(self, ready: Ready, report: FlushReport) -> bool:
        """One batch request for ``ready``; each outcome applied to its scan, in one commit."""
        try:
            report.batches += 1
            results = self.client.record_batch([body for _scan, body in ready])
        except Offline as error:
            with self.outbox.together():
                for scan, _body in ready:
                    self.outbox.mark_failed(scan.id, _("server unreachable: {error}").format(error=error))
            report.stopped = _("server unreachable: {error}").format(error=error)
            return False
        except ClientError as error:
            return self._whole_batch_refused(ready, error, report)
        by_index = {result.get("index"): result for result in results}
        with self.outbox.together():
            for index, (scan, _body) in enumerate(ready):
                self._apply(scan, by_index.get(index), report)
        return True

    def _apply(self, scan: Scan, result: dict[str, Any] | None, report: FlushReport) -> None:
        """One outcome of a batch answer, as a single POST's answer would be applied."""
        if result is None or result.get("event_id", scan.event_id) != scan.event_id:
            self.outbox.mark_failed(
                scan.id, _("no outcome for this scan in the batch answer"), retry_at=self._later(scan)
            )
            report.retrying += 1
            return
        status = result.get("status")
        if isinstance(status, int) and 200 <= status < 300:
            self.outbox.mark_sent(scan.id, status)
            report.sent += 1
            return
        status = status if isinstance(status, int) else 500
        error = problem_of(status, result.get("problem"), f"HTTP {status}")
        if not self._refused(scan, error, report):
            # A 401 or 429 for one event says nothing about it: keep it, try again later.
            self.outbox.mark_failed(scan.id, str(error), status=status, retry_at=self._later(scan))

    def _whole_batch_refused(self, ready: Ready, error: ClientError, report: FlushReport) -> bool:
        if error.status in NO_BATCH_PATH:
            self.batch_path = False
            return self._send_singles(ready, report)
        if error.status in TOO_LARGE:
            if len(ready) == 1:
                return self._send_singles(ready, report)
            half = len(ready) // 2
            return self._send_batch(ready[:half], report) and self._send_batch(ready[half:], report)
        stop = error.transient and error.status < 500
        with self.outbox.together():
            for scan, _body in ready:
                if stop:
                    self.outbox.mark_failed(scan.id, str(error), status=error.status)
                else:
                    self._refused(scan, error, report)
        if stop:
            report.stopped = _("the server refused the request: {error}").format(error=error)
        return not stop

    def _refused(self, scan: Scan, error: ClientError, report: FlushReport) -> bool:
        """Apply a refusal of this scan; False (nothing written) when the flush should stop."""
        if not error.transient:
            self.outbox.mark_rejected(scan.id, error.status, error.detail, error.errors)
            report.rejected.append((scan, error))
            return True
        if error.status >= 500:
            wait = max(backoff(scan.attempts + 1), error.retry_after or 0.0)
            self.outbox.mark_failed(scan.id, str(error), status=error.status, retry_at=self.clock() + wait)
            report.retrying += 1
            return True
        self.outbox.mark_failed(scan.id, str(error), status=error.status)
        return False

    def _later(self, scan: Scan) -> float:
        return self.clock() + backoff(scan.attempts + 1)

    # -- verification of scans queued without one -------------------------------------------

    def _complete(self, page: Sequence[Scan], report: FlushReport) -> Ready | None:
        """Each scan with its body, verifying the codes of those without one (each code once).

        A refusal of the verification applies to the scan as a refusal of its event would; None
        when the flush should stop. The new bodies are stored in one commit, after the look-ups,
        so the outbox is never locked while the network is waited for.
        """
        missing = {scan.trace_code for scan in page if scan.body is None} - set(self._verified)
        for code in sorted(missing):
            try:
                self._verified[code] = Summary.from_document(self.client.verify(code))
            except Offline as error:
                waiting = next(scan for scan in page if scan.trace_code == code)
                self.outbox.mark_failed(waiting.id, _("server unreachable: {error}").format(error=error))
                report.stopped = _("server unreachable: {error}").format(error=error)
                return None
            except ClientError as error:
                self._verified[code] = error
        ready: Ready = []
        with self.outbox.together():
            for scan in page:
                found = self._verified.get(scan.trace_code) if scan.body is None else None
                if isinstance(found, ClientError):
                    if not self._refused(scan, found, report):
                        report.stopped = _("the server refused the request: {error}").format(error=found)
                        return None
                    continue
                if scan.body is None:
                    assert found is not None  # every missing code was looked up above
                    body = self.outbox.set_body(
                        scan.id, body_for(scan, found), code=scan.trace_code, summary=found.to_json()
                    )
                else:
                    body = scan.body
                ready.append((scan, body))
        return ready
