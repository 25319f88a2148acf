"""trace-scan end to end: a subprocess against a real traceapp server on 127.0.0.1 (STYLE 35)."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter

import pytest

from scanner_client.codes import check_symbol
from tests.live import Server
from tests.scanner.conftest import Parties, TraceScan, inspections

pytestmark = pytest.mark.e2e
UNKNOWN = "2222222222222" + check_symbol("2222222222222")  # well-formed, never issued


def test_a_valid_certificate_is_accepted_and_the_gate_check_is_recorded(trace_scan, issue, server, parties):
    certificate = issue(quantity="500")
    code = certificate["trace_code"]
    run = trace_scan("gate", stdin=f"\x02]Q1HTTPS://TRACE.EXAMPLE.CN/T/{code}\x03\r\n")
    assert run.returncode == 0, run.stderr
    assert "ACCEPT" in run.stdout and "大白菜 · 500 kg" in run.stdout
    assert parties.producer.org_name in run.stdout and "certificate: valid" in run.stdout
    assert "✔ recorded: inspection accepted" in run.stdout and "\a" not in run.stdout
    [event] = inspections(server, parties, code)
    assert event["event_id"] == trace_scan.event_ids()[0]
    assert event["details"]["result"] == "accepted" and event["location"] == "东门"
    assert event["org_name"] == parties.market.org_name


def test_a_revoked_certificate_is_rejected_with_a_bell_and_the_rejection_recorded(
    trace_scan, issue, server, parties
):
    code = issue(revoked_because="农药使用记录有误")["trace_code"]
    run = trace_scan("gate", stdin=f"{code[:4].lower()}-{code[4:8]} {code[8:]}\n")
    assert "REJECT" in run.stdout and "\a" in run.stdout
    assert "why: certificate revoked: 农药使用记录有误" in run.stdout
    assert "✔ recorded: inspection rejected" in run.stdout
    [event] = inspections(server, parties, code)
    assert event["details"]["result"] == "rejected"
    assert event["details"]["certificate_status"] == "revoked"


def test_a_positive_rapid_test_rejects_a_valid_batch_and_is_recorded(trace_scan, issue, server, parties):
    code = issue()["trace_code"]
    run = trace_scan("gate", stdin=f"{code} | qty=120 | test=enzyme:有机磷:62.5\n")
    assert "REJECT" in run.stdout and "rapid test positive: enzyme_inhibition 有机磷 62.5%" in run.stdout
    [event] = inspections(server, parties, code)
    assert event["details"]["result"] == "rejected"
    assert event["details"]["tests"][0]["result"] == "positive"
    assert event["items"][0]["quantity"] == "120"


def test_bad_lines_get_a_clear_message_and_the_loop_goes_on(trace_scan, issue, server, parties):
    code = issue()["trace_code"]
    lines = [
        "hello",
        "",
        "0000-OOOO",
        "https://id.gs1.org/01/09520123456788",  # a product, no lot: names no batch
        f"{code[:-1]}{'2' if code[-1] != '2' else '3'}",
        UNKNOWN,
        code,
    ]
    run = trace_scan("gate", stdin="\n".join(lines) + "\n")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "NOT A TRACE CODE: 'hello'" in out and "Empty line: nothing was scanned." in out
    assert "NOT A TRACE CODE: '0000-OOOO'" in out
    assert "it names a product, not a batch" in out and "check character does not match" in out
    assert "unknown code: No certificate has this trace code." in out and "nothing recorded" in out
    assert "ACCEPT" in out and len(inspections(server, parties, code)) == 1
    assert trace_scan.counts() == {"pending": 0, "sent": 1, "rejected": 1}


def test_a_second_read_within_a_second_is_ignored(trace_scan, issue, server, parties):
    code = issue()["trace_code"]
    run = trace_scan("gate", stdin=f"{code}\r\n]Q1{code}\r\n")
    assert "read again within 1 s: ignored" in run.stdout
    assert len(inspections(server, parties, code)) == 1


def test_a_refused_scan_lands_in_rejected_with_the_servers_reason(trace_scan, issue, parties):
    code = issue()["trace_code"]
    run = trace_scan("gate", stdin=code + "\n", TRACE_SCAN_TOKEN=parties.producer.token)
    assert "NOT RECORDED: the server refused this gate check (403)" in run.stdout and "\a" in run.stdout
    status = trace_scan("status", "--json")
    assert status.stdout == '{"pending": 0, "sent": 0, "rejected": 1}\n'
    listed = trace_scan("rejected")
    assert "Only markets and regulators may record gate checks." in listed.stdout
    assert f"{code[:4]}-{code[4:8]}" in listed.stdout and "403" in listed.stdout
    [entry] = json.loads(trace_scan("rejected", "--json").stdout)
    assert entry["status"] == 403 and entry["trace_code"] == code


def test_a_requeued_rejection_is_sent_once_the_token_is_fixed(trace_scan, issue, server, parties):
    code = issue()["trace_code"]
    trace_scan("gate", stdin=code + "\n", TRACE_SCAN_TOKEN=parties.producer.token)
    assert "Requeued 1 scans" in trace_scan("rejected", "--requeue", "all").stdout
    assert trace_scan("sync").returncode == 0
    assert trace_scan.counts() == {"pending": 0, "sent": 1, "rejected": 0}
    assert len(inspections(server, parties, code)) == 1


def test_check_says_whether_server_and_token_work(trace_scan, parties, server):
    assert trace_scan("check").returncode == 0
    producer = trace_scan("check", TRACE_SCAN_TOKEN=parties.producer.token)
    assert producer.returncode == 1 and "may not record gate checks" in producer.stdout
    bad = trace_scan("check", TRACE_SCAN_TOKEN="tat_wrong")
    assert bad.returncode == 1 and "the token was refused (401)" in bad.stdout
    nowhere = trace_scan("check", "--server", "http://127.0.0.1:9")
    assert nowhere.returncode == 1 and "Cannot reach" in nowhere.stdout


def _offline_scans(
    trace_scan: TraceScan, server: Server, lines: list[str]
) -> subprocess.CompletedProcess[str]:
    server.stop()
    run = trace_scan("gate", stdin="\n".join(lines) + "\n")
    assert run.returncode == 0, run.stderr
    return run


def test_offline_scans_are_queued_then_synced_exactly_once(trace_scan, issue, server, parties):
    seen, unseen = issue()["trace_code"], issue()["trace_code"]
    trace_scan("gate", stdin=f"{seen} | qty=1\n")  # verified once: now in the cache
    run = _offline_scans(trace_scan, server, [f"{seen} | qty=2", f"{unseen} | qty=3"])
    assert run.stdout.count("OFFLINE: queued") == 2
    assert "would ACCEPT" in run.stdout and "大白菜 · 500 kg" in run.stdout
    assert "never verified on this gate" in run.stdout
    assert "Run `trace-scan sync` when the server is back" in run.stdout
    assert trace_scan.counts() == {"pending": 2, "sent": 1, "rejected": 0}
    down = trace_scan("sync")
    assert down.returncode == 1 and "server unreachable" in down.stdout
    server.start()
    assert trace_scan("sync").returncode == 0
    assert trace_scan.counts() == {"pending": 0, "sent": 3, "rejected": 0}
    recorded = [e["event_id"] for code in (seen, unseen) for e in inspections(server, parties, code)]
    assert sorted(recorded) == sorted(trace_scan.event_ids())


def test_a_replay_after_a_lost_answer_is_not_recorded_twice(trace_scan, issue, server, parties):
    code = issue()["trace_code"]
    trace_scan("gate", stdin=f"{code} | qty=1\n")
    _forget_answers(trace_scan)  # as if the process died between the POST and its commit
    assert trace_scan.counts()["pending"] == 1
    sync = trace_scan("sync")
    assert sync.returncode == 0 and "Sent 1" in sync.stdout
    assert len(inspections(server, parties, code)) == 1


def _forget_answers(trace_scan: TraceScan) -> None:
    import sqlite3

    with sqlite3.connect(trace_scan.home / "outbox.sqlite3") as connection:
        connection.execute("UPDATE scans SET state = 'pending' WHERE state = 'sent'")
    connection.close()


def test_a_sync_killed_midway_loses_nothing_and_records_nothing_twice(trace_scan, issue, server, parties):
    codes = [issue()["trace_code"], issue()["trace_code"], issue(revoked_because="错发")["trace_code"]]
    lines = [f"{codes[i % 3]} | qty=1" + (WRONG_HANDOVER if i % 50 == 7 else "") for i in range(200)]
    _offline_scans(trace_scan, server, lines)
    assert trace_scan.counts() == {"pending": 200, "sent": 0, "rejected": 0}
    server.start()
    # pages of 10: the kill lands between requests, or while one is in flight
    sync = subprocess.Popen(
        trace_scan.command("sync", "--batch", "10"),
        env=trace_scan.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: trace_scan.counts()["sent"] >= 20, seconds=30)
    finally:
        sync.kill()  # SIGKILL: no cleanup, as in a power cut
        sync.wait(timeout=10)
    assert 0 < trace_scan.counts()["pending"] < 200, "sync finished before it could be killed"
    finish = trace_scan("sync", "--batch", "10")
    assert finish.returncode == 0, finish.stdout
    assert trace_scan.counts() == {"pending": 0, "sent": 196, "rejected": 4}
    recorded = Counter(e["event_id"] for code in codes for e in inspections(server, parties, code))
    assert set(recorded.values()) == {1} and sorted(recorded) == sorted(trace_scan.event_ids())
    _assert_refused_each_with_its_own_reason(trace_scan, [i for i in range(200) if i % 50 == 7])


def test_a_page_whose_answers_were_lost_is_replayed_and_recorded_once(trace_scan, issue, server, parties):
    codes = [issue()["trace_code"], issue()["trace_code"]]
    lines = [f"{codes[i % 2]} | qty=1" + (WRONG_HANDOVER if i == 3 else "") for i in range(30)]
    _offline_scans(trace_scan, server, lines)
    server.start()
    assert trace_scan("sync").returncode == 0
    assert trace_scan.counts() == {"pending": 0, "sent": 29, "rejected": 1}
    _forget_answers(trace_scan)  # as if the process died between the batch POST and its commit
    again = trace_scan("sync")
    assert again.returncode == 0 and "Sent 29" in again.stdout, again.stdout
    assert trace_scan.counts() == {"pending": 0, "sent": 29, "rejected": 1}
    assert _statuses(trace_scan, "sent") == {200}  # every one a replay the server recognised
    recorded = Counter(e["event_id"] for code in codes for e in inspections(server, parties, code))
    assert set(recorded.values()) == {1} and sorted(recorded) == sorted(trace_scan.event_ids())
    _assert_refused_each_with_its_own_reason(trace_scan, [3])


WRONG_HANDOVER = " | code=ABCDE-FGHJK"  # a hand-over code nobody gave: the server refuses that scan


def _assert_refused_each_with_its_own_reason(trace_scan: TraceScan, positions: list[int]) -> None:
    import sqlite3

    with sqlite3.connect(trace_scan.home / "outbox.sqlite3") as connection:
        rows = connection.execute(
            "SELECT id, state, http_status, detail, options FROM scans ORDER BY id"
        ).fetchall()
    connection.close()
    refused = [(row[0], row[2], row[3]) for row in rows if row[1] == "rejected"]
    assert [scan_id - rows[0][0] for scan_id, _, _ in refused] == positions
    assert all(400 <= status < 500 and detail for _, status, detail in refused), refused
    assert all(json.loads(row[4])["handover"] == "ABCDEFGHJK" for row in rows if row[1] == "rejected")


def _statuses(trace_scan: TraceScan, state: str) -> set[int]:
    import sqlite3

    with sqlite3.connect(trace_scan.home / "outbox.sqlite3") as connection:
        found = {
            row[0] for row in connection.execute("SELECT http_status FROM scans WHERE state = ?", (state,))
        }
    connection.close()
    return found


def _wait_for(condition, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_status_json_has_exactly_three_counts(trace_scan):
    run = trace_scan("status", "--json")
    assert run.returncode == 0 and json.loads(run.stdout) == {"pending": 0, "sent": 0, "rejected": 0}
    assert run.stdout == '{"pending": 0, "sent": 0, "rejected": 0}\n'


def test_the_console_script_is_installed_next_to_python(parties: Parties):
    import shutil
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("trace-scan")
    assert script.exists() or shutil.which("trace-scan"), "pip install -e . installs trace-scan"
