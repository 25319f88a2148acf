"""The admin commands of the contract, through Flask's CLI runner on the test database."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from traceapp.orgs.models import Organisation


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
    headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
    assert app.test_client().get("/api/v1/certificates", headers=headers).status_code == 200


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
