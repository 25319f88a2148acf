"""Issuing a certificate and printing it, against a bare ``qrcode`` PNG of the same URL.

Per certificate, in one process: issue it through the real service (``issue_certificate`` in
its own committed transaction, public page and all), then, as the label URLs do, load it and
render its QR PNG, its 40x30 PDF and its 203-dpi PNG (``printing.render_label``). Beside each,
in the same run and interleaved with it, the baseline: ``qrcode.make(url)`` saved as PNG, for
the same URL. Prints the medians of every step and the ratio bare / ours (goal: 0.5 or better),
for a database of N certificates and for one of 10 N (goal: within 20 % of each other).

    python bench/labels.py                                   # SQLite files in bench/out/
    python bench/labels.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_labels
    python bench/labels.py --certificates 1000 --issues 300 --reuse

The databases are filled as ``public_page.py`` fills its own (a hundred certificates through
the services, the rest bulk copies, every public page stored), and only scratch databases are
ever wiped: files under bench/out/, PostgreSQL databases named bench*. The 10x database is
the same URL with ``_10x`` after the database name. Exit status 0, or 2 for a setup failure.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import public_page  # noqa: E402  (the bench next door: seeding, scratch checks, machine facts)

OUT = HERE / "out"
GOAL = 0.5
STEADY = 0.20  # the ratio at 10x the data within this share of the ratio at 1x
BASE = "https://trace.example.cn"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=f"sqlite:///{OUT / 'labels.sqlite3'}")
    p.add_argument("--certificates", type=int, default=1000, metavar="N", help="in the 1x database")
    p.add_argument("--issues", type=int, default=200, metavar="K", help="certificates timed per database")
    p.add_argument("--reuse", action="store_true", help="keep databases that hold N (10 N) or more")
    args = p.parse_args(argv)
    if args.certificates <= public_page.SERVICE_SAMPLE or not 10 <= args.issues <= 10_000:
        p.error(f"--certificates must be more than {public_page.SERVICE_SAMPLE}, --issues 10..10000")
    return args


def tenfold_url(url: str) -> str:
    u = sa.engine.make_url(url)
    if u.get_backend_name() == "sqlite":
        path = Path(u.database or "")
        return u.set(database=str(path.with_name(path.stem + "_10x" + path.suffix))).render_as_string(False)
    return u.set(database=f"{u.database}_10x").render_as_string(False)


def prepare(url: str, n: int, reuse: bool) -> str:
    """A database holding at least ``n`` certificates; say how it came to be."""
    have = public_page.count_rows(url) if reuse else None
    if reuse and have is not None and have >= n and public_page.db_revision(url) == public_page.code_head():
        return f"reused: {have:,} certificates"
    return public_page.prepare_database(url, n, reuse=False)


def bare_png(url: str) -> bytes:
    """The baseline: what the QR library does alone for the same URL."""
    import qrcode

    buffer = io.BytesIO()
    qrcode.make(url).save(buffer, "PNG")
    return buffer.getvalue()


def measure(url: str, issues: int) -> dict[str, Any]:
    """Issue and print ``issues`` certificates, each beside its bare QR PNG; per-step times (s)."""
    from traceapp import codes, db
    from traceapp.certificates import printing
    from traceapp.certificates import services as certificates
    from traceapp.certificates.models import Certificate
    from traceapp.orgs.models import User
    from traceapp.orgs.services import Actor

    app = public_page.make_app(url)
    app.config["PUBLIC_BASE_URL"] = BASE
    rng = random.Random(20261203)
    steps: dict[str, list[float]] = {k: [] for k in ("issue", "qr", "pdf", "png", "ours", "bare")}
    with app.test_request_context():
        with db.transaction(write=False) as session:
            users = session.scalars(sa.select(User).where(User.email.like("bench%@bench.traceapp"))).all()
            actors = [Actor.of(user) for user in users]
        if not actors:
            raise public_page.die("no bench producers in the database (seed it again)")
        for i in range(issues + 5):  # the first five warm the process up and are not counted
            data = public_page.sample_data(rng, 100 + i, public_page.PRODUCTS[i % len(public_page.PRODUCTS)])
            t0 = time.perf_counter()
            with db.transaction() as session:
                certificate, _ = certificates.issue_certificate(session, actors[i % len(actors)], data=data)
                certificate_id = certificate.id
            t1 = time.perf_counter()
            with db.transaction(write=False) as session:
                certificate = session.get(Certificate, certificate_id)
                printing.render_label(certificate, "qr", {}, base_url=BASE)
                t2 = time.perf_counter()
                printing.render_label(certificate, "pdf", {"size": "40x30", "copies": 1}, base_url=BASE)
                t3 = time.perf_counter()
                printing.render_label(certificate, "png", {"size": "40x30", "dpi": 203}, base_url=BASE)
                t4 = time.perf_counter()
                qr_url = codes.qr_url(BASE, certificate.trace_code)
            t5 = time.perf_counter()
            bare_png(qr_url)
            t6 = time.perf_counter()
            if i >= 5:
                for key, value in zip(
                    steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0, t6 - t5), strict=True
                ):
                    steps[key].append(value)
    app.extensions["traceapp.db"].engine.dispose()
    return steps


def summary(steps: dict[str, list[float]]) -> dict[str, float]:
    medians = {key: statistics.median(values) * 1000 for key, values in steps.items()}
    medians["ratio"] = medians["bare"] / medians["ours"]
    medians["ratio_of_totals"] = sum(steps["bare"]) / sum(steps["ours"])
    return medians


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    OUT.mkdir(exist_ok=True)
    runs = []
    for scale, url, n in (
        ("1x", args.database_url, args.certificates),
        ("10x", tenfold_url(args.database_url), 10 * args.certificates),
    ):
        note = prepare(url, n, args.reuse)
        load = os.getloadavg()
        started = time.perf_counter()
        result = summary(measure(url, args.issues))
        runs.append(
            {
                "scale": scale,
                "database": sa.engine.make_url(url).render_as_string(hide_password=True),
                "certificates_before": public_page.count_rows(url),
                "seeding": note,
                "load_before": load,
                "seconds": time.perf_counter() - started,
                **result,
            }
        )
    print(f"\n{'python':>13}: {platform.python_version()}, {os.cpu_count()} cores")
    print(f"{'code':>13}: {public_page.code_head()} (migration head)")
    print(f"{'per database':>13}: {args.issues} certificates issued and printed, medians in ms\n")
    head = f"{'data':<5}{'certs':>8}{'issue':>8}{'qr.png':>8}{'40x30':>8}{'203dpi':>8}{'ours':>8}{'bare':>8}"
    head += f"{'ratio':>8}{'totals':>8}  load before"
    print(head + "\n" + "-" * len(head))
    for r in runs:
        print(
            f"{r['scale']:<5}{r['certificates_before']:>8,}{r['issue']:>8.2f}{r['qr']:>8.2f}{r['pdf']:>8.2f}"
            f"{r['png']:>8.2f}{r['ours']:>8.2f}{r['bare']:>8.2f}{r['ratio']:>8.2f}"
            f"{r['ratio_of_totals']:>8.2f}  {' '.join(f'{x:.2f}' for x in r['load_before'])}"
        )
    one, ten = runs
    drift = abs(ten["ratio"] - one["ratio"]) / one["ratio"]
    print(
        f"\nratio bare/ours (medians): {one['ratio']:.2f} at 1x, {ten['ratio']:.2f} at 10x; goal "
        f"{GOAL}: {'PASS' if min(one['ratio'], ten['ratio']) >= GOAL else 'BELOW GOAL'}; 10x within "
        f"{STEADY:.0%} of 1x: {'PASS' if drift <= STEADY else 'NO'} ({drift:.0%})"
    )
    print("ours = issue (its own commit) + qr.png + 40x30 PDF + 203-dpi PNG, each loaded and drawn as the")
    print("label URLs do; bare = qrcode.make(url).save(PNG) of the same URL, interleaved in the same run.")
    tag = public_page.backend(args.database_url)
    out = OUT / f"labels-{tag}.json"
    out.write_text(json.dumps({"goal": GOAL, "steady": STEADY, "runs": runs}, indent=2, ensure_ascii=False))
    print(f"results: {out.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
