"""End-to-end fixtures: a real ``traceapp serve`` on 127.0.0.1 and headless Chromium.

The live server runs in another process, so it cannot see the rolled-back transaction of the
top-level fixtures (STYLE rule 26). It gets its own committed database instead: a temporary
SQLite file, or, when ``TRACEAPP_TEST_DATABASE_URL`` names PostgreSQL, a separate database
``<name>_e2e`` on the same server, created here and dropped at the end. Rows carry random refs,
so nothing is cleaned up between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.committed import committed_database
from tests.live import Server, free_port
from traceapp import create_app, db
from traceapp.orgs import services as orgs
from traceapp.orgs.models import OrgKind, Role

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "correct-horse-9"


@dataclass(frozen=True)
class Login:
    """A producer organisation's admin, committed in the live server's database."""

    email: str
    password: str
    org_name: str


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, so a fixture can tell that its test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# -- database ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def e2e_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a committed, migrated database for the live server (never the main test db)."""
    with committed_database("e2e", tmp_path_factory.mktemp("e2e-db")) as url:
        yield url


@pytest.fixture(scope="session")
def producer_login(e2e_database_url: str) -> Login:
    """A producer organisation with an admin user, committed through the real services."""
    app = create_app({"DATABASE_URL": e2e_database_url, "SECRET_KEY": "e2e"})
    suffix = uuid.uuid4().hex[:8]
    login = Login(email=f"e2e-{suffix}@example.cn", password=PASSWORD, org_name=f"木兰合作社-{suffix}")
    try:
        with app.app_context(), db.transaction() as session:
            org = orgs.create_organisation(
                session, kind=OrgKind.PRODUCER, name=login.org_name, region_code="420116", phone="13812345678"
            )
            orgs.create_user(session, org_id=org.id, email=login.email, password=PASSWORD, role=Role.ADMIN)
    finally:
        app.extensions["traceapp.db"].dispose()
    return login


# -- live server ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(
    e2e_database_url: str, producer_login: Login, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """``traceapp serve`` (gunicorn, one worker) on a free port, stopped at the end."""
    server = Server(
        free_port(), e2e_database_url, tmp_path_factory.mktemp("e2e-server") / "server.log", "e2e-secret"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_server_url(live_server: Server) -> str:
    """Base URL of the live server, such as ``http://127.0.0.1:43817``."""
    return live_server.url


@pytest.fixture(autouse=True)
def _server_log_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print the tail of the server's log when a test that used the live server fails."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and "live_server_url" in request.fixturenames:
        server: Server = request.getfixturevalue("live_server")
        print(f"--- tail of {server.log} ---\n{server.log_tail()}")


# -- browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """Sync Playwright, once per session (it cannot be started twice in one process)."""
    problem = _browser_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"{problem} (CI must install it for the e2e tests)", pytrace=False)
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as started:
        yield started


def launch(playwright: Any, **options: Any) -> Any:
    """Headless Debian Chromium (never a downloaded browser)."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, **options
    )


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    """Headless Debian Chromium through sync Playwright."""
    chromium = launch(playwright)
    try:
        yield chromium
    finally:
        chromium.close()


def _browser_problem() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: apt-get install chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[test]'"
    return None


@pytest.fixture()
def new_context(browser: Any) -> Iterator[Callable[..., Any]]:
    """Open browser contexts (``new_context(locale="zh-CN")``); all are closed after the test.

    Defaults to a 360 x 740 phone at device scale 2.
    """
    opened: list[Any] = []

    def open_context(**options: Any) -> Any:
        settings = {
            "viewport": {"width": 360, "height": 740},
            "device_scale_factor": 2,
            "is_mobile": True,
            "has_touch": True,
            **options,
        }
        context = browser.new_context(**settings)
        context.set_default_timeout(10_000)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def demo_journey(e2e_database_url: str) -> dict[str, str]:
    """The demo data committed to the live server's database: a journey from issue through a
    shipment, a cold leg with an excursion and a gate check to a portion sold on."""
    from traceapp.demo import seed_demo
    from traceapp.events.services import EventSettings

    app = create_app({"DATABASE_URL": e2e_database_url, "SECRET_KEY": "e2e"})
    try:
        with app.test_request_context(), db.transaction() as session:
            summary = seed_demo(session, EventSettings.from_config(app.config))
    finally:
        app.extensions["traceapp.db"].dispose()
    return {
        what.split(" ")[0] + ("-portion" if "portion" in what else ""): code for code, what in summary.codes
    }
