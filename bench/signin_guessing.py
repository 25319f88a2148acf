"""Page latency while clients guess passwords: the bare baseline, then 4 guessing clients with
the rate limits and hashing slots on (the defaults), then the same 4 with both off.

One SQLite database with a producer, a user and a certificate (its public page stored), served
by gunicorn as in production (sync workers, ``--workers 2``, 127.0.0.1). In each phase one
client fetches pages one after another for ``--duration`` seconds (``/t/<code>``, the public
page, and ``/login``, a page Flask renders) and we print p50 / p95 latency of each and the
ratio to the baseline. Each guessing client comes from its own loopback address
(127.0.0.2 ... 127.0.0.5, so per-address limits see four clients), fetches the sign-in form for
its CSRF token and posts wrong passwords for random accounts as fast as the server answers.

    python bench/signin_guessing.py [--duration 10] [--guessers 4] [--workers 2]

Load only ever goes to 127.0.0.1-5, for a bounded time (3 phases of --duration seconds).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def seed(url: str) -> str:
    """A fresh database with one certificate whose page is stored; returns its trace code."""
    from datetime import date
    from decimal import Decimal

    from traceapp import create_app, db, migrate
    from traceapp.certificates import services as certificates
    from traceapp.certificates.models import Basis, Commitment, Unit
    from traceapp.orgs import services as orgs
    from traceapp.orgs.models import OrgKind, Role
    from traceapp.public.pages import refresh_stale

    app = create_app({"DATABASE_URL": url, "TESTING": True, "JOBS_URL": url.replace(".sqlite3", "-jobs.db")})
    body = {
        "product_name": "大白菜",
        "quantity": Decimal("5"),
        "unit": Unit.KG,
        "origin": {"region_code": "420116", "address": "木兰乡"},
        "harvest_date": date(2026, 11, 20),
        "commitments": list(Commitment),
        "basis": [Basis.SELF_TEST],
    }
    with app.test_request_context():
        migrate.upgrade(db.database().engine)
        with db.transaction() as session:
            org = orgs.create_organisation(
                session, kind=OrgKind.PRODUCER, name="合作社", region_code="420116"
            )
            user = orgs.create_user(
                session, org_id=org.id, email="farmer@bench.cn", password="bench-pass-2026", role=Role.ADMIN
            )
            certificate, _created = certificates.issue_certificate(session, orgs.Actor.of(user), data=body)
            code = certificate.trace_code
        refresh_stale()
    return code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--worker-class", "sync", "--workers", str(workers)]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            get(port, "/login")
            time.sleep(1)  # both workers up
            return process, port
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise SystemExit("gunicorn did not answer in 60 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def get(port: int, path: str, source: str = "127.0.0.1") -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    began = time.perf_counter()
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - began
    finally:
        conn.close()


def guess(port: int, source: str, until: float, counts: dict[int, int], lock: threading.Lock) -> None:
    """Sign-in form, then wrong passwords for random accounts, as fast as the server answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    conn.request("GET", "/login")
    response = conn.getresponse()
    token = CSRF.search(response.read().decode()).group(1)
    cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    while time.monotonic() < until:
        body = urllib.parse.urlencode(
            {
                "csrf_token": token,
                "email": f"{secrets.token_hex(4)}@bench.cn",
                "password": secrets.token_hex(8),
            }
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        try:
            conn.request("POST", "/login", body=body, headers=headers)
            answer = conn.getresponse()
            answer.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
            continue
        with lock:
            counts[answer.status] = counts.get(answer.status, 0) + 1
    conn.close()


def phase(port: int, code: str, duration: float, guessers: int) -> dict[str, object]:
    until = time.monotonic() + duration
    counts: dict[int, int] = {}
    lock = threading.Lock()
    threads = [
        threading.Thread(
            target=guess, args=(port, f"127.0.0.{2 + n}", until + 0.5, counts, lock), daemon=True
        )
        for n in range(guessers)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.5 if guessers else 0)
    pages: dict[str, list[float]] = {"public": [], "login": []}
    while time.monotonic() < until:
        for name, path in (("public", f"/t/{code}"), ("login", "/login")):
            status, seconds = get(port, path)
            if status == 200:
                pages[name].append(seconds)
    for thread in threads:
        thread.join(timeout=40)
    return {"pages": pages, "guesses": counts}


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--guessers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    tag = secrets.token_hex(4)
    url = f"sqlite:///{OUT / f'signin-{tag}.sqlite3'}"
    code = seed(url)
    base = {
        **os.environ,
        "TRACEAPP_DATABASE_URL": url,
        "TRACEAPP_SECRET_KEY": secrets.token_hex(16),
        "TRACEAPP_JOBS_URL": f"sqlite:///{OUT / f'signin-jobs-{tag}.db'}",
        "TRACEAPP_RATELIMIT_STORAGE_URL": f"sqlite:///{OUT / f'signin-limits-{tag}.sqlite3'}",
        # The page client is one address at full speed: counted, never refused.
        "TRACEAPP_RATELIMIT_PUBLIC": "1000000000 per minute",
    }
    base.pop("TRACEAPP_ENV", None)
    unguarded = {**base, "TRACEAPP_RATELIMIT_ENABLED": "false", "TRACEAPP_PASSWORD_HASH_SLOTS": "64"}
    results = {}
    for name, env, guessers in (
        ("baseline", base, 0),
        (f"{args.guessers} guessing, limits on", base, args.guessers),
        (f"{args.guessers} guessing, limits off", unguarded, args.guessers),
    ):
        process, port = start(env, args.workers)
        try:
            results[name] = phase(port, code, args.duration, guessers)
        finally:
            stop(process)
    baseline = results["baseline"]["pages"]
    print(
        f"{'phase':<28} {'page':<7} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p50 ratio':>10}  guesses by status"
    )
    for name, result in results.items():
        for page, values in result["pages"].items():
            ratio = p(values, 50) / p(baseline[page], 50)
            print(
                f"{name:<28} {page:<7} {len(values):>6} {p(values, 50):>8.1f} {p(values, 95):>8.1f}"
                f" {ratio:>9.2f}x  {dict(sorted(result['guesses'].items()))}"
            )
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; cores {os.cpu_count()}")


if __name__ == "__main__":
    main()
