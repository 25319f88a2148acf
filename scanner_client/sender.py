"""Send the outbox to the server, oldest first, so that nothing is lost or recorded twice.

Per scan: a 2xx marks it sent (200 is the server recognising a replay of the same event_id and
body). A refusal (4xx other than 401, 408, 425, 429) moves it to rejected with the server's
detail. No answer at all, a bad token (401) or a redirect leaves it pending and stops the
flush, since the next scans would fare the same; a server error (5xx) leaves it pending with
its own backoff (2, 4, 8 ... up to 300 s) and the flush goes on with the next.

A scan queued without a verification (offline, never seen before) is verified first and its
body is then stored once and for all, before it is sent. One flush verifies each code once,
however many of its scans are queued (the server still checks every event it records).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from scanner_client.client import ClientError, Offline, TraceClient
from scanner_client.inspection import GateOptions, Summary, inspection_body
from scanner_client.outbox import Outbox, Scan

MAX_BACKOFF = 300.0
PAGE = 200


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


class Sender:
    """Flushes one outbox through one client."""

    def __init__(
        self, outbox: Outbox, client: TraceClient, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.clock = clock
        self._verified: dict[str, Summary] = {}

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
        while batch := self.outbox.due(after_id=last, limit=PAGE, now=None if force else self.clock()):
            for scan in batch:
                if (limit is not None and count >= limit) or (
                    deadline is not None and time.monotonic() > deadline
                ):
                    report.more = True
                    return report
                last, count = scan.id, count + 1
                if not self._send(scan, report):
                    return report
        return report

    def _send(self, scan: Scan, report: FlushReport) -> bool:
        """Try one scan; False when the flush should stop."""
        try:
            body = scan.body or self._complete(scan)
            status = self.client.record(body.encode("utf-8"))
        except Offline as error:
            self.outbox.mark_failed(scan.id, f"server unreachable: {error}")
            report.stopped = f"server unreachable: {error}"
            return False
        except ClientError as error:
            return self._refused(scan, error, report)
        self.outbox.mark_sent(scan.id, status)
        report.sent += 1
        return True

    def _complete(self, scan: Scan) -> str:
        """Verify a scan queued unverified and store its body. Raises ClientError, Offline."""
        summary = self._verified.get(scan.trace_code)
        if summary is None:
            summary = Summary.from_document(self.client.verify(scan.trace_code))
            self._verified[scan.trace_code] = summary
        return self.outbox.set_body(
            scan.id, body_for(scan, summary), code=scan.trace_code, summary=summary.to_json()
        )

    def _refused(self, scan: Scan, error: ClientError, report: FlushReport) -> bool:
        if not error.transient:
            self.outbox.mark_rejected(scan.id, error.status, error.detail, error.errors)
            report.rejected.append((scan, error))
            return True
        if error.status >= 500:
            self.outbox.mark_failed(
                scan.id, str(error), status=error.status, retry_at=self.clock() + backoff(scan.attempts + 1)
            )
            report.retrying += 1
            return True
        self.outbox.mark_failed(scan.id, str(error), status=error.status)
        report.stopped = f"the server refused the request: {error}"
        return False
