"""The gate loop: each scanned line becomes a queued scan, a verdict and, when it can, a record.

For every line: read the payload and its inline options; ignore a repeat read; queue the scan
in the outbox (on disk before any network I/O); verify the code; store the inspection body;
show the verdict; then send the queue, oldest first, within a small budget so the next scan
is not kept waiting. When the server cannot be reached the verdict is OFFLINE (with the last
verification of the code on this gate, if any), and the gate stops trying the network for a
while (1, 2, 4 ... 15 s) so that scanning stays fast; the next scan after that tries again and
sends the backlog once the server answers.

Unknown codes are refused by the server (404): the verdict is REJECT and nothing is recorded,
but the scan stays in the outbox's rejected list. Unreadable lines are never queued; the
screen says why and the loop goes on.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable

from scanner_client.client import ClientError, Offline, TraceClient
from scanner_client.codes import Payload, format_code, parse_payload, strip_noise
from scanner_client.i18n import N_, _
from scanner_client.inspection import GateOptions, OptionError, Summary, decide, parse_options, split_line
from scanner_client.outbox import Outbox, Scan, now_iso
from scanner_client.reader import Deduper
from scanner_client.sender import Sender, body_for
from scanner_client.verdict import Screen

FLUSH_LIMIT = 50
#: What the session's summary counts (``Gate.stats`` keys).
STAT_LABELS = {
    "accepted": N_("accepted"),
    "rejected": N_("rejected"),
    "offline": N_("offline"),
    "refused": N_("refused"),
    "repeats": N_("repeats"),
    "unreadable": N_("unreadable"),
}
FLUSH_BUDGET = 2.0
MAX_PAUSE = 15.0


class Gate:
    """One gate session: an outbox, a client, a screen, and the options given for every scan."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        client: TraceClient,
        screen: Screen,
        location: str | None,
        defaults: GateOptions | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.screen = screen
        self.location = location
        self.defaults = defaults or GateOptions()
        self.clock = clock
        self.sender = Sender(outbox, client)
        self.deduper = Deduper(clock=clock)
        self.armed: GateOptions | None = None
        self.stats: Counter[str] = Counter()
        self._pause, self._paused_until, self._why_down = 0.0, 0.0, ""

    # -- the server's availability ---------------------------------------------------------

    def _down(self, reason: str) -> None:
        self._pause = min(max(self._pause * 2, 1.0), MAX_PAUSE)
        self._paused_until, self._why_down = self.clock() + self._pause, reason

    def _up(self) -> None:
        self._pause, self._paused_until = 0.0, 0.0

    def _paused(self) -> bool:
        return self.clock() < self._paused_until

    # -- lines -----------------------------------------------------------------------------

    def run(self, lines: Iterable[str]) -> None:
        """Handle every line until the input ends, then send what is left and sum up."""
        for line in lines:
            self.handle(line)
        self.finish()

    def handle(self, line: str) -> None:
        """Handle one scanned or typed line (never raises for bad input)."""
        text, option_text = split_line(line)
        if option_text is not None and not strip_noise(text):
            self._arm(option_text)
            return
        payload = parse_payload(text)
        if payload.kind not in ("trace_code", "gs1") or payload.code is None:
            self._unreadable(payload)
            return
        try:
            options = self._options(option_text)
        except OptionError as error:
            self.stats["unreadable"] += 1
            self.screen.note(
                _("✘ {code}: {error} Nothing recorded: scan again.").format(
                    code=format_code(payload.code), error=error
                ),
                ring=True,
            )
            return
        if self.deduper.is_repeat((payload.code, option_text or "")):
            self.stats["repeats"] += 1
            self.screen.note(
                _("· {code} read again within 1 s: ignored.").format(code=format_code(payload.code))
            )
            return
        self.armed = None
        scan = self.outbox.add(
            code=payload.code, scanned_at=now_iso(), options={**options.to_json(), "location": self.location}
        )
        self._check(scan, options)

    def _arm(self, option_text: str) -> None:
        try:
            self.armed = parse_options(option_text)
        except OptionError as error:
            self.screen.note(f"✘ {error}", ring=True)
            return
        self.screen.note(_("· options for the next scan: {options}").format(options=strip_noise(option_text)))

    def _options(self, option_text: str | None) -> GateOptions:
        base = self.armed.over(self.defaults) if self.armed else self.defaults
        inline = parse_options(option_text) if option_text else GateOptions()
        return inline.over(base).check()

    def _unreadable(self, payload: Payload) -> None:
        if payload.kind == "empty":
            self.screen.note(f"· {payload.reason}")
            return
        self.stats["unreadable"] += 1
        label = _("NOT A TRACEAPP CODE") if payload.kind == "not_ours" else _("NOT A TRACE CODE")
        shown = payload.text if len(payload.text) <= 80 else payload.text[:77] + "..."
        self.screen.note(
            _("✘ {label}: {shown!r}\n  {reason} Nothing recorded.").format(
                label=label, shown=shown, reason=payload.reason
            ),
            ring=True,
        )

    # -- one scan --------------------------------------------------------------------------

    def _check(self, scan: Scan, options: GateOptions) -> None:
        """Verify, show the verdict, then send."""
        if self._paused():
            self._offline(scan, options, self._why_down)
        else:
            try:
                document = self.client.verify(scan.trace_code)
            except Offline as error:
                self._down(_("server unreachable: {error}").format(error=error))
                self._offline(scan, options, self._why_down)
            except ClientError as error:
                self._refused(scan, options, error)
            else:
                self._up()
                self._verified(scan, options, Summary.from_document(document))
        self._send(scan)

    def _verified(self, scan: Scan, options: GateOptions, summary: Summary) -> None:
        self.outbox.set_body(
            scan.id, body_for(scan, summary), code=scan.trace_code, summary=summary.to_json()
        )
        decision = decide(summary, options)
        self.stats["accepted" if decision.accept else "rejected"] += 1
        if decision.accept:
            self.screen.accept(summary, options.tests)
        else:
            self.screen.reject(scan.trace_code, decision.reasons, summary, options.tests)

    def _offline(self, scan: Scan, options: GateOptions, problem: str) -> None:
        self.stats["offline"] += 1
        cached = self.outbox.recall(scan.trace_code)
        if cached is None:
            self.screen.offline(scan.trace_code, problem, None, options.tests)
            return
        summary = Summary.from_json(cached[0])
        self.outbox.set_body(scan.id, body_for(scan, summary))
        self.screen.offline(scan.trace_code, problem, (summary, decide(summary, options), cached[1]))

    def _refused(self, scan: Scan, options: GateOptions, error: ClientError) -> None:
        """The server would not verify the code: unknown (404), refused, or in trouble."""
        if error.transient:
            answered = _("server answered {error}").format(error=error)
            if error.status == 401 or error.status >= 500:
                self._down(answered)
            self._offline(scan, options, answered)
            return
        self.outbox.mark_rejected(scan.id, error.status, error.detail, error.errors)
        self.stats["rejected"] += 1
        why = (
            _("unknown code: {detail}").format(detail=error.detail)
            if error.status == 404
            else _("server refused: {problem}").format(problem=error.explained())
        )
        self.screen.reject(scan.trace_code, [why, _("nothing recorded")])

    def _send(self, scan: Scan) -> None:
        """Send the queue (this scan included, in its turn) and say what became of this scan."""
        pending = self.outbox.get(scan.id).state == "pending"
        if self._paused():
            if pending:
                waiting = self.outbox.counts()["pending"]
                self.screen.note(
                    _("… queued, {waiting} waiting to be sent ({why}).").format(
                        waiting=waiting, why=self._why_down
                    )
                )
            return
        report = self.sender.flush(force=False, limit=FLUSH_LIMIT, budget=FLUSH_BUDGET)
        if report.stopped:
            self._down(report.stopped)
        for other, error in report.rejected:
            if other.id != scan.id:
                self.screen.note(
                    _(
                        "✘ queued scan of {code} at {at} NOT RECORDED: {problem} (see `trace-scan rejected`)"
                    ).format(
                        code=format_code(other.trace_code), at=other.scanned_at, problem=error.explained()
                    ),
                    ring=True,
                )
        if pending:
            self._report(self.outbox.get(scan.id), report.sent)

    def _report(self, scan: Scan, sent: int) -> None:
        if scan.state == "sent":
            result = json.loads(scan.body or "{}").get("result", "")
            shown = {"accepted": _("accepted"), "rejected": _("rejected")}.get(result, result)
            if sent > 1:
                told = _("✔ recorded: inspection {result}; also sent {earlier} queued earlier.")
            else:
                told = _("✔ recorded: inspection {result}.")
            self.screen.note(told.format(result=shown, earlier=sent - 1))
        elif scan.state == "rejected":
            self.stats["refused"] += 1
            self.screen.note(
                _(
                    "✘ NOT RECORDED: the server refused this gate check ({status}): {detail} "
                    "(see `trace-scan rejected`)"
                ).format(status=scan.http_status, detail=scan.detail),
                ring=True,
            )
        else:
            ahead = self.outbox.pending_before(scan.id)
            why = scan.last_error or _("waiting for the scans queued before it")
            self.screen.note(
                _("… queued, not sent yet ({why}; {ahead} older scans waiting).").format(why=why, ahead=ahead)
            )

    # -- the end ---------------------------------------------------------------------------

    def finish(self) -> None:
        """At the end of input: send what is left (one try) and sum up the session."""
        if self.outbox.counts()["pending"]:
            report = self.sender.flush(force=True)
            if report.sent:
                self.screen.note(_("↑ sent {sent} queued scans.").format(sent=report.sent))
            for scan, error in report.rejected:
                self.screen.note(
                    _("✘ queued scan of {code} NOT RECORDED: {problem}").format(
                        code=format_code(scan.trace_code), problem=error.explained()
                    ),
                    ring=True,
                )
        counts = self.outbox.counts()
        done = _(", ").join(f"{n} {_(STAT_LABELS.get(what, what))}" for what, n in sorted(self.stats.items()))
        self.screen.note(
            _("Session: {done}. Outbox: {pending} pending, {sent} sent, {rejected} rejected.").format(
                done=done or _("no scans"), **counts
            )
        )
        if counts["pending"]:
            self.screen.note(_("Run `trace-scan sync` when the server is back: nothing is lost."))
