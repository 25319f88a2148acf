"""The outbox, the verification cache and the settings: local state, no server."""

from __future__ import annotations

import io
import json
import sqlite3
import stat
from pathlib import Path

import pytest

from scanner_client import cli, settings
from scanner_client.outbox import Outbox


@pytest.fixture()
def outbox(tmp_path: Path):  # type: ignore[no-untyped-def]
    with Outbox(tmp_path / "home" / "outbox.sqlite3") as box:
        yield box


def test_a_queued_scan_is_on_disk_before_add_returns(outbox):
    scan = outbox.add(code="LRALC8X7RJNZ5V", scanned_at="2026-11-21T08:30:00.000+08:00", options={"qty": "1"})
    with sqlite3.connect(outbox.path) as other:  # another process's view
        assert other.execute("SELECT event_id, state FROM scans").fetchall() == [(scan.event_id, "pending")]
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    other.close()
    assert len(scan.event_id) == 36 and scan.body is None and scan.options == {"qty": "1"}


def test_a_body_is_stored_once_and_never_changed(outbox):
    scan = outbox.add(code="C", scanned_at="t", options={})
    assert outbox.set_body(scan.id, '{"a":1}') == '{"a":1}'
    assert outbox.set_body(scan.id, '{"a":2}') == '{"a":1}'  # a second verification changes nothing


def test_scans_move_between_pending_sent_and_rejected(outbox):
    first, second, third = (outbox.add(code=c, scanned_at="t", options={}) for c in "ABC")
    outbox.mark_sent(first.id, 201)
    outbox.mark_rejected(
        second.id,
        409,
        "This event_id was already used with a different body.",
        [{"field": "/event_id", "message": "reused"}],
    )
    outbox.mark_failed(third.id, "server unreachable", retry_at=2e9)
    assert outbox.counts() == {"pending": 1, "sent": 1, "rejected": 1}
    assert [s.id for s in outbox.due()] == [third.id] and outbox.due(now=1e9) == []
    [rejected] = outbox.by_state("rejected")
    assert rejected.http_status == 409 and rejected.errors[0]["field"] == "/event_id"
    assert outbox.requeue([]) == 0 and outbox.requeue([second.id]) == 1
    assert [s.id for s in outbox.due()] == [second.id, third.id]  # oldest first
    assert outbox.get(third.id).attempts == 1 and outbox.pending_before(third.id) == 1


def test_the_last_verification_of_each_code_is_cached(outbox):
    assert outbox.recall("A") is None
    outbox.remember("A", {"status": "valid"})
    outbox.remember("A", {"status": "revoked"})
    summary, verified_at = outbox.recall("A")
    assert summary == {"status": "revoked"} and verified_at[:2] == "20"


def test_the_outbox_survives_reopening(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    with Outbox(path) as box:
        box.add(code="A", scanned_at="t", options={})
    with Outbox(path) as box:
        assert box.counts()["pending"] == 1


# -- settings ----------------------------------------------------------------------------------


def test_flags_beat_the_environment_which_beats_the_file(tmp_path):
    settings.save(tmp_path, {"server": "https://file.example.cn/", "token": "file-token", "gate": "北门"})
    env = {"TRACE_SCAN_SERVER": "https://env.example.cn", "TRACE_SCAN_HOME": str(tmp_path)}
    loaded = settings.load({"gate": "东门"}, env)
    assert (loaded.server, loaded.token, loaded.gate) == ("https://env.example.cn", "file-token", "东门")
    assert loaded.sources == {"server": "env", "token": "file", "gate": "flag"}
    assert settings.load({}, {"TRACE_SCAN_HOME": str(tmp_path)}).server == "https://file.example.cn"


def test_the_home_folder_follows_xdg_unless_trace_scan_home_is_set(tmp_path):
    assert settings.default_home({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "trace-scan"
    assert settings.default_home({"TRACE_SCAN_HOME": str(tmp_path), "XDG_CONFIG_HOME": "/x"}) == tmp_path


def test_config_writes_a_private_file_and_never_prints_the_token(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("tat_secret-token-value\n"))
    code = cli.main(
        [
            "config",
            "--home",
            str(tmp_path),
            "--server",
            "http://127.0.0.1:5000",
            "--token",
            "-",
            "--gate",
            "白沙洲 东门",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "tat_secr…" in out and "secret-token-value" not in out
    path = tmp_path / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    assert settings.read_file(path) == {
        "server": "http://127.0.0.1:5000",
        "token": "tat_secret-token-value",
        "gate": "白沙洲 东门",
    }
    assert cli.main(["config", "--home", str(tmp_path), "--gate", "北门"]) == 0
    assert settings.read_file(path)["token"] == "tat_secret-token-value"  # merged, not replaced


@pytest.mark.parametrize(
    "argv",
    [
        ["config", "--server", "trace.example.cn"],
        ["sync"],
        ["config", "--server", "http://h:port"],
        ["rejected", "--requeue", "seven"],
    ],
)
def test_bad_or_missing_settings_exit_2_with_a_message(argv, tmp_path, monkeypatch, capsys):
    for name in ("TRACE_SCAN_SERVER", "TRACE_SCAN_TOKEN", "TRACE_SCAN_GATE"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main([*argv, "--home", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("trace-scan: ")


def test_status_json_prints_exactly_the_three_counts(tmp_path, capsys):
    assert cli.main(["status", "--json", "--home", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out == '{"pending": 0, "sent": 0, "rejected": 0}\n' and list(json.loads(out)) == [
        "pending",
        "sent",
        "rejected",
    ]
