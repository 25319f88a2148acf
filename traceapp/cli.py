"""Command line: ``traceapp demo|serve|db|org|user|token|pages|purchases|worker|jobs`` (also
``flask --app traceapp ...``).

Each command is a thin wrapper over a service, committed through ``transaction()``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from traceapp import db, migrate, sealed
from traceapp.db import utcnow
from traceapp.errors import DomainError
from traceapp.orgs import services as org_services
from traceapp.orgs.models import OrgKind, Role
from traceapp.orgs.scopes import ALL_SCOPES, Scope, parse_scopes

db_cli = AppGroup("db", help="Database schema.")
org_cli = AppGroup("org", help="Organisations.")
user_cli = AppGroup("user", help="Users.")
token_cli = AppGroup("token", help="API tokens.")
pages_cli = AppGroup("pages", help="Stored public pages.")
purchases_cli = AppGroup("purchases", help="Purchases (收购) and collected certificates.")


def _fail_on_domain_error(exc: DomainError) -> None:
    raise click.ClickException(str(exc.detail or exc.title))


@db_cli.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply all migrations to the configured database."""
    migrate.upgrade(db.database().engine, secret_keys=sealed.app_keys(current_app.config))
    click.echo("database is up to date", err=True)


@org_cli.command("create")
@click.option("--kind", required=True, type=click.Choice([k.value for k in OrgKind]))
@click.option("--name", required=True)
@click.option("--region-code", default=None, help="6-digit administrative division code.")
@click.option("--phone", default=None)
@with_appcontext
def org_create(kind: str, name: str, region_code: str | None, phone: str | None) -> None:
    """Create an organisation; print its id alone."""
    try:
        with db.transaction() as session:
            org = org_services.create_organisation(
                session, kind=OrgKind(kind), name=name, region_code=region_code, phone=phone
            )
    except DomainError as exc:
        _fail_on_domain_error(exc)
    click.echo(org.id)


@org_cli.command("contacts")
@click.option("--org", "org_id", required=True, type=click.UUID)
@click.option("--email", default=None, help='Contact e-mail for notifications ("" clears it).')
@click.option("--phone", default=None, help="Mobile number for SMS notifications.")
@click.option("--webhook-url", default=None, help="URL notifications are POSTed to, signed.")
@with_appcontext
def org_contacts(org_id: Any, email: str | None, phone: str | None, webhook_url: str | None) -> None:
    """Set where notifications go; a new webhook URL prints its signing secret alone."""
    try:
        with db.transaction() as session:
            _org, secret = org_services.set_contacts(
                session,
                org_id=org_id,
                email=email,
                phone=phone,
                webhook_url=webhook_url,
                keys=sealed.app_keys(current_app.config),
            )
    except DomainError as exc:
        _fail_on_domain_error(exc)
    if secret:
        click.echo(secret)


@user_cli.command("create")
@click.option("--org", "org_id", required=True, type=click.UUID)
@click.option("--email", default=None)
@click.option("--mobile", default=None, help="A Chinese mobile number, such as 138 0013 8000.")
@click.option("--password", required=True)
@click.option("--role", default="member", type=click.Choice([r.value for r in Role]))
@with_appcontext
def user_create(org_id: Any, email: str | None, mobile: str | None, password: str, role: str) -> None:
    """Create a user in an organisation, signing in by e-mail, mobile number or either."""
    try:
        with db.transaction() as session:
            user = org_services.create_user(
                session, org_id=org_id, email=email, mobile=mobile, password=password, role=Role(role)
            )
    except DomainError as exc:
        _fail_on_domain_error(exc)
    click.echo(user.id)


@user_cli.command("role")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@with_appcontext
def user_role(email: str, role: str) -> None:
    """Give a user another role in their organisation (recorded in the audit log)."""
    try:
        with db.transaction() as session:
            user = org_services.set_role(session, email=email, role=Role(role))
    except DomainError as exc:
        _fail_on_domain_error(exc)
    click.echo(f"{user.email} is {user.role.value}", err=True)


SCOPE_NAMES = [scope.value for scope in Scope]


@token_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", default="cli", show_default=True, help="What uses the token.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(SCOPE_NAMES),
    help="Repeat for several; default: every scope.",
)
@click.option("--expires-in-days", type=click.IntRange(min=1), default=None, help="Default: never expires.")
@with_appcontext
def token_create(email: str, name: str, scopes: tuple[str, ...], expires_in_days: int | None) -> None:
    """Create an API token for a user; print it alone (it is shown only once)."""
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    chosen = parse_scopes(scopes) if scopes else ALL_SCOPES
    try:
        with db.transaction() as session:
            _token, plaintext = org_services.create_api_token(
                session, email=email, name=name, scopes=chosen, expires_at=expires_at
            )
    except DomainError as exc:
        _fail_on_domain_error(exc)
    click.echo(plaintext)


@token_cli.command("list")
@click.option("--email", default=None, help="Only this user's tokens.")
@with_appcontext
def token_list(email: str | None) -> None:
    """List tokens, newest first: id, owner, name, prefix, scopes, status, expiry, last use."""
    from traceapp.orgs.documents import token_status

    def when(value: Any) -> str:
        return value.isoformat(timespec="seconds") if value else "-"

    for t in org_services.all_tokens(db.session(), email=email):
        fields = [t.id, t.user.email, t.name, t.prefix, ",".join(t.scopes), token_status(t)]
        click.echo("\t".join(str(f) for f in [*fields, when(t.expires_at), when(t.last_used_at)]))


@token_cli.command("revoke")
@click.argument("token_id", type=click.UUID)
@with_appcontext
def token_revoke(token_id: Any) -> None:
    """Revoke a token by its id (from `token list`): from now on it answers 401."""
    try:
        with db.transaction() as session:
            token = org_services.revoke_token_by_id(session, token_id=token_id)
    except DomainError as exc:
        _fail_on_domain_error(exc)
    click.echo(f"revoked {token.id} ({token.name})", err=True)


@pages_cli.command("scans")
@with_appcontext
def pages_scans() -> None:
    """Count the scans noted since the last flush into scan_counts now, and render the pages
    whose counts it publishes (`traceapp worker`'s sweep does this every minute)."""
    from traceapp.public.scans import flush

    click.echo(f"counted {flush()} scans", err=True)


@pages_cli.command("refresh")
@click.option("--chunk", default=100, type=click.IntRange(1, 10_000), help="Pages per transaction.")
@click.option(
    "--shard",
    default="1/1",
    metavar="K/N",
    help="Take the K-th of N slices of the certificates (run N processes to share).",
)
@click.option(
    "--watch",
    type=click.FloatRange(min=0.1),
    default=None,
    metavar="SECONDS",
    help="Keep running: a pass every SECONDS (the job worker's sweep does this already).",
)
@with_appcontext
def pages_refresh(chunk: int, shard: str, watch: float | None) -> None:
    """Store the public pages that are missing, behind (events recorded, large recalls), or
    rendered by another version of traceapp, here and now. Until then those pages render live:
    correct, but slower. Run it once after a deploy (--shard to split it over processes);
    `traceapp worker` renders what writes leave behind and sweeps the rest every minute."""
    import time

    from traceapp.public.pages import refresh_stale

    try:
        k, n = (int(part) for part in shard.split("/"))
        if not 1 <= k <= n:
            raise ValueError
    except ValueError:
        raise click.BadParameter("give K/N with 1 <= K <= N, such as 2/4", param_hint="--shard") from None
    while True:
        stored = refresh_stale(chunk, shard=(k, n))
        if watch is None:
            click.echo(f"{stored} pages stored")
            return
        if stored:
            click.echo(f"{stored} pages stored", err=True)
        time.sleep(watch)


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--workers", default=2, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Serve with gunicorn on the configured database (production)."""
    from traceapp.server import run_gunicorn

    _require_free(host, port)
    run_gunicorn(host=host, port=port, workers=workers)


def _require_free(host: str, port: int) -> None:
    from traceapp.server import CannotListen, require_free

    try:
        require_free(host, port)
    except CannotListen as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("demo")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--no-serve", is_flag=True, help="Seed and print the logins, then exit.")
@with_appcontext
def demo(host: str, port: int, no_serve: bool) -> None:
    """Create the database if missing, seed demo data, print logins and a token, and serve
    (with a job worker beside the server)."""
    from traceapp.demo import seed_demo
    from traceapp.events.services import EventSettings
    from traceapp.public.pages import refresh_stale
    from traceapp.server import run_gunicorn

    if not no_serve:
        _require_free(host, port)
    migrate.upgrade(db.database().engine, secret_keys=sealed.app_keys(current_app.config))
    with db.transaction() as session:
        summary = seed_demo(session, EventSettings.from_config(current_app.config))
    refresh_stale()  # the journeys' pages (events leave them to the refresher)
    click.echo(summary.describe(f"http://{host}:{port}"))
    if not no_serve:
        # The real job path with no service to install: a worker process beside the server, on
        # the broker file in the instance folder. It stops with the demo.
        worker = subprocess.Popen([sys.executable, "-m", "traceapp", "worker", "--workers", "2"])
        try:
            run_gunicorn(host=host, port=port, workers=2)
        finally:
            worker.terminate()
            worker.wait(timeout=30)


@purchases_cli.command("purge")
@with_appcontext
def purchases_purge() -> None:
    """Delete purchases (and their collected certificates' photos) past each organisation's
    retention setting, audited; organisations without a setting (the default) keep everything."""
    from traceapp.purchases.services import purge_expired

    with db.transaction() as session:
        done = purge_expired(session)
    click.echo(
        f"purged {sum(done.values())} purchases of {len(done)} organisations with a retention", err=True
    )


def init_app(app: Flask) -> None:
    """Register the commands on ``app.cli``."""
    from traceapp.epcis.cli import COMMANDS as EPCIS_COMMANDS
    from traceapp.jobs.cli import COMMANDS as JOB_COMMANDS

    commands = (
        db_cli,
        org_cli,
        user_cli,
        token_cli,
        pages_cli,
        purchases_cli,
        serve,
        demo,
        *JOB_COMMANDS,
        *EPCIS_COMMANDS,
    )
    for command in commands:
        app.cli.add_command(command)


def main() -> None:
    """Entry point of the ``traceapp`` console script."""
    if sys.argv[1:2] != ["serve"]:
        # Only the production server needs a real secret key; the demo and the admin commands
        # run on the development defaults unless TRACEAPP_ENV says otherwise.
        os.environ.setdefault("TRACEAPP_ENV", "development")
    from traceapp import create_app

    cli = FlaskGroup(
        create_app=lambda: create_app(),
        add_default_commands=False,
        add_version_option=False,
        set_debug_flag=False,
        load_dotenv=False,
    )
    from traceapp.config import ConfigError

    try:
        cli.main(prog_name="traceapp")
    except ConfigError as exc:  # one line for the operator, not a traceback
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
