"""The admin commands of the contract, through Flask's CLI runner on the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import sqlalchemy as sa

from traceapp import sealed
from traceapp.orgs.models import Organisation, User


def test_org_user_and_token_commands_print_ids_and_the_token(app, dbsession):
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=["org", "create", "--kind", "producer", "--name", "木兰合作社", "--region-code", "420116"]
    )
    assert created.exit_code == 0, created.output
    org_id = uuid.UUID(created.stdout.strip())
    assert dbsession.get(Organisation, org_id).name == "木兰合作社"
    user = runner.invoke(
        args=[
            "user",
            "create",
            "--org",
            str(org_id),
            "--email",
            "a@b.cn",
            "--password",
            "long-enough-1",
            "--role",
            "admin",
        ]
    )
    assert user.exit_code == 0, user.output
    token = runner.invoke(args=["token", "create", "--email", "a@b.cn"])
    assert token.exit_code == 0 and token.stdout.strip().startswith("tat_")
    farmer = runner.invoke(
        args=[
            "user",
            "create",
            "--org",
            str(org_id),
            "--mobile",
            "138 0013 8000",
            "--password",
            "long-enough-1",
        ]
    )
    assert farmer.exit_code == 0, farmer.output
    assert dbsession.get(User, uuid.UUID(farmer.stdout.strip())).mobile == "+8613800138000"
    nobody = runner.invoke(args=["user", "create", "--org", str(org_id), "--password", "long-enough-1"])
    assert nobody.exit_code != 0 and "mobile number or an e-mail" in nobody.output
    headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
    assert app.test_client().get("/api/v1/certificates", headers=headers).status_code == 200


def test_org_contacts_sets_where_notifications_go_and_prints_a_new_webhooks_secret(app, dbsession, make):
    org = make.org()
    runner = app.test_cli_runner()
    args = ["org", "contacts", "--org", str(org.id), "--email", "office@coop.example.cn"]
    first = runner.invoke(args=[*args, "--webhook-url", "https://erp.example.cn/hook"])
    assert first.exit_code == 0, first.output
    dbsession.expire_all()
    stored = dbsession.get(Organisation, org.id)
    printed = first.stdout.strip()
    assert printed == sealed.unseal(sealed.app_keys(app.config), stored.webhook_secret)
    assert printed not in stored.webhook_secret and stored.email == "office@coop.example.cn"
    bad = runner.invoke(args=["org", "contacts", "--org", str(org.id), "--webhook-url", "ftp://x"])
    assert bad.exit_code != 0 and "http://" in bad.output


def test_commands_report_bad_input_without_a_traceback(app, dbsession):
    runner = app.test_cli_runner()
    bad_region = runner.invoke(
        args=["org", "create", "--kind", "producer", "--name", "x", "--region-code", "999999"]
    )
    assert bad_region.exit_code != 0 and "Unknown administrative division code" in bad_region.output
    bad_kind = runner.invoke(args=["org", "create", "--kind", "bank", "--name", "x"])
    assert bad_kind.exit_code == 2
    no_user = runner.invoke(args=["token", "create", "--email", "nobody@x.cn"])
    assert no_user.exit_code != 0 and "No user" in no_user.output
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def _traceapp(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The ``traceapp`` command in a process of its own, as an operator types it."""
    return subprocess.run(
        [sys.executable, "-m", "traceapp", *args],
        env={**{k: v for k, v in os.environ.items() if k != "TRACEAPP_SECRET_KEY"}, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_busy_port_is_said_in_one_line_before_anything_starts(tmp_path):
    database = tmp_path / "demo.sqlite3"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        env = {"TRACEAPP_DATABASE_URL": f"sqlite:///{database}", "TRACEAPP_ENV": "development"}
        for command in (["demo", "--port", port], ["serve", "--port", port]):
            done = _traceapp(*command, env=env)
            assert done.returncode == 1, done
            assert done.stderr.strip().splitlines() == [
                f"Error: port {port} on 127.0.0.1 is already in use (another traceapp?): stop it, "
                "or choose another port with --port"
            ]
    assert not database.exists()  # the demo seeded nothing before it said so


def test_serving_without_a_secret_key_is_said_in_one_line(tmp_path):
    env = {"TRACEAPP_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "TRACEAPP_ENV": "production"}
    done = _traceapp("serve", "--port", "1", env=env)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done
    assert "TRACEAPP_SECRET_KEY is not set" in done.stderr and "Traceback" not in done.stderr
