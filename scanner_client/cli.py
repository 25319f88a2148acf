"""``trace-scan``: configure, check, run the gate, decode images, sync, and read the outbox.

Every command takes ``--home``, ``--server``, ``--token`` and ``--gate`` (over the environment
and the config file). Exit status: 0 done; 1 the job is not done (server or token not working,
scans still pending, an image without a code); 2 bad usage or settings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from scanner_client import __version__, i18n
from scanner_client.client import ClientError, Offline, TraceClient
from scanner_client.codes import format_code
from scanner_client.gate import Gate
from scanner_client.i18n import _
from scanner_client.inspection import (
    GateOptions,
    OptionError,
    RapidTest,
    parse_quantity,
    parse_test,
    parse_unit,
)
from scanner_client.outbox import Outbox
from scanner_client.reader import scan_lines
from scanner_client.sender import MAX_PAGE, PAGE, Sender
from scanner_client.settings import (
    CONFIG_NAME,
    Settings,
    SettingsError,
    default_home,
    load,
    masked,
    read_file,
    save,
)
from scanner_client.verdict import Screen

T = TypeVar("T")
EPILOG = """inline options on a scanned line (after "|"), or alone on a line before a scan:
  CODE | qty=250 | unit=jin | test=enzyme:有机磷:18.5 | test=gold:克伦特罗:negative
"""


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", help="folder for config, outbox and cache (env TRACE_SCAN_HOME)")
    common.add_argument("--server", help="server URL, e.g. https://trace.example.cn (env TRACE_SCAN_SERVER)")
    common.add_argument("--token", help="API token of a market or regulator user (env TRACE_SCAN_TOKEN)")
    common.add_argument("--gate", help="name of this gate, recorded as the location (env TRACE_SCAN_GATE)")
    common.add_argument(
        "--lang",
        help="language of the screen: zh (中文) or en (env TRACE_SCAN_LANG, else the config, else LANG)",
    )
    return common


def _scan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quantity",
        type=_quantity,
        help="quantity received for every scan (default: the certificate's), e.g. 250 or 250kg",
    )
    parser.add_argument("--unit", type=_unit, help="unit of --quantity: kg, jin, piece, box")
    parser.add_argument(
        "--test",
        action="append",
        type=_test,
        default=[],
        metavar="METHOD:ITEM:VALUE",
        help="a rapid test for every scan, e.g. enzyme_inhibition:有机磷:18.5 (repeatable)",
    )


def _batch_size(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise argparse.ArgumentTypeError(
            _("a number from 1 to {most}, not {text!r}").format(most=MAX_PAGE, text=text)
        )
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="trace-scan",
        epilog=EPILOG,
        description="Market-gate scanner client for traceapp.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"trace-scan {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common()

    def add(name: str, text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], help=text, description=text)

    add(
        "config",
        "write --server, --token (- reads it from stdin) and --gate to the config file, or show the settings",
    )
    add("check", "say whether the server answers and accepts the token for gate checks")
    _scan_options(add("gate", "read scans from stdin (one per line) until end of input"))
    image = add("image", "decode codes in photos or screenshots and handle them as scans")
    image.add_argument("files", nargs="+", type=Path, metavar="FILE")
    _scan_options(image)
    add("sync", "send the queued scans now").add_argument(
        "--batch",
        type=_batch_size,
        default=PAGE,
        metavar="N",
        help=f"scans per request (1 to {MAX_PAGE}, default {PAGE}); 1 sends each scan alone",
    )
    add("status", "count pending, sent and rejected scans").add_argument(
        "--json", action="store_true", help='print {"pending": n, "sent": n, "rejected": n}'
    )
    rejected = add("rejected", "list the scans the server refused, with its reasons")
    rejected.add_argument("--json", action="store_true", help="print them as JSON")
    rejected.add_argument("--requeue", nargs="+", metavar="ID", help="send these again (ids or 'all')")
    return parser


def _argument(function: Callable[[str], T], text: str) -> T:
    try:
        return function(text)
    except OptionError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _quantity(text: str) -> tuple[str, str | None]:
    return _argument(parse_quantity, text)


def _unit(text: str) -> str:
    return _argument(parse_unit, text)


def _test(text: str) -> RapidTest:
    return _argument(parse_test, text)


# -- commands ----------------------------------------------------------------------------------


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    changes = {"server": args.server, "token": args.token, "gate": args.gate, "lang": args.lang}
    if changes["token"] == "-":
        changes["token"] = sys.stdin.readline().strip()
    if any(changes.values()):
        path = save(settings.home, {key: value for key, value in changes.items() if value})
        print(_("Saved to {path} (mode 0600).").format(path=path))
        settings = load({}, os.environ, str(settings.home))
    print(f"home:   {settings.home}")
    for key in ("server", "token", "gate", "lang"):
        value = getattr(settings, key)
        shown = masked(value) if key == "token" else value or _("(none)")
        print(f"{key + ':':7} {shown}" + (f"   [{settings.sources[key]}]" if key in settings.sources else ""))
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    server, token = settings.require_server()
    with TraceClient(server, token, language=i18n.accept_language()) as client:
        try:
            client.probe_gate_rights()
        except Offline as error:
            print(_("✘ Cannot reach {server}: {error}").format(server=server, error=error))
            return 1
        except ClientError as error:
            what = {
                401: _("the token was refused"),
                403: _("this token may not record gate checks (it must belong to a market or regulator)"),
            }.get(error.status, _("the server answered"))
            print(f"✘ {server}: {what} ({error.status}): {error.explained()}")
            return 1
    print(_("✔ {server} answers and accepts this token for gate checks.").format(server=server))
    if not settings.gate:
        print(_("! No gate name set: run `trace-scan config --gate NAME` (it is recorded as the location)."))
    return 0


def _defaults(args: argparse.Namespace) -> GateOptions:
    quantity, unit = args.quantity or (None, None)
    options = GateOptions(quantity, args.unit or unit, tuple(args.test))
    try:
        return options.check()
    except OptionError as error:
        raise SettingsError(str(error)) from error


def _run_gate(args: argparse.Namespace, settings: Settings, lines: Iterable[str]) -> Gate:
    server, token = settings.require_server()
    screen = Screen(sys.stdout)
    defaults = _defaults(args)
    with (
        Outbox(settings.outbox_path) as outbox,
        TraceClient(server, token, language=i18n.accept_language()) as client,
    ):
        gate = Gate(outbox=outbox, client=client, screen=screen, location=settings.gate, defaults=defaults)
        pending = outbox.counts()["pending"]
        screen.note(
            _("trace-scan {version}: gate {gate} → {server}; {pending} scans waiting in the outbox.").format(
                version=__version__, gate=settings.gate or _("(unnamed)"), server=server, pending=pending
            )
        )
        if not settings.gate:
            screen.note(_("! No gate name set (trace-scan config --gate NAME): recorded without a location."))
        try:
            gate.run(lines)
        except KeyboardInterrupt:
            screen.note(_("Interrupted: every scan shown so far is in the outbox."))
            raise SystemExit(130) from None
    return gate


def cmd_gate(args: argparse.Namespace, settings: Settings) -> int:
    _run_gate(args, settings, scan_lines(sys.stdin.buffer))
    return 0


def cmd_image(args: argparse.Namespace, settings: Settings) -> int:
    from scanner_client.images import ImageError, decode_file

    failed: list[str] = []
    texts: list[str] = []
    for path in args.files:
        try:
            found = decode_file(path)
        except ImageError as error:
            failed.append(str(error))
            continue
        if not found:
            failed.append(_("{path}: no code found").format(path=path))
        texts.extend(found)
    _run_gate(args, settings, texts)
    for problem in failed:
        print(f"✘ {problem}")
    return 1 if failed else 0


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    server, token = settings.require_server()
    with (
        Outbox(settings.outbox_path) as outbox,
        TraceClient(server, token, language=i18n.accept_language()) as client,
    ):
        report = Sender(outbox, client, page=args.batch).flush(force=True)
        for scan, error in report.rejected:
            print(
                _("✘ #{id} {code} scanned {at}: refused ({status}): {problem}").format(
                    id=scan.id,
                    code=format_code(scan.trace_code),
                    at=scan.scanned_at,
                    status=error.status,
                    problem=error.explained(),
                )
            )
        counts = outbox.counts()
    print(
        _(
            "Sent {done}, refused {refused}. Outbox: {pending} pending, {sent} sent, {rejected} rejected."
        ).format(done=report.sent, refused=len(report.rejected), **counts)
    )
    if report.batches or report.singles:
        print(
            _("Requests: {batches} batches of up to {size} scans, {singles} single.").format(
                batches=report.batches, size=args.batch, singles=report.singles
            )
        )
    if report.stopped:
        print(_("Stopped: {why}. Nothing is lost: run sync again later.").format(why=report.stopped))
    return 1 if counts["pending"] else 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    with Outbox(settings.outbox_path) as outbox:
        counts = outbox.counts()
        oldest = outbox.due(limit=1)
    if args.json:
        print(json.dumps(counts))
        return 0
    print(_("pending {pending}, sent {sent}, rejected {rejected}").format(**counts))
    if oldest:
        scan = oldest[0]
        told = _("oldest pending: {at} {code}").format(at=scan.scanned_at, code=format_code(scan.trace_code))
        if scan.last_error:
            told += _(" (last error: {error})").format(error=scan.last_error)
        print(told)
    return 0


def cmd_rejected(args: argparse.Namespace, settings: Settings) -> int:
    with Outbox(settings.outbox_path) as outbox:
        if args.requeue:
            if args.requeue != ["all"] and not all(i.isdigit() for i in args.requeue):
                raise SettingsError(
                    _("--requeue takes 'all' or scan ids: the #numbers that `trace-scan rejected` shows.")
                )
            ids = None if args.requeue == ["all"] else [int(i) for i in args.requeue]
            print(_("Requeued {count} scans: run `trace-scan sync`.").format(count=outbox.requeue(ids)))
            return 0
        scans = outbox.by_state("rejected")
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": s.id,
                        "event_id": s.event_id,
                        "trace_code": s.trace_code,
                        "scanned_at": s.scanned_at,
                        "status": s.http_status,
                        "detail": s.detail,
                        "errors": s.errors,
                    }
                    for s in scans
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    for scan in scans:
        print(
            f"#{scan.id}  {scan.scanned_at}  {format_code(scan.trace_code)}  "
            f"{scan.http_status}  {scan.detail}"
        )
        for error in scan.errors:
            print(f"      {error.get('field', '?')}: {error.get('message', '')}")
    told = _("{count} rejected.").format(count=len(scans))
    print(told + (_(" Requeue with `trace-scan rejected --requeue ID`.") if scans else ""))
    return 0


COMMANDS = {
    "config": cmd_config,
    "check": cmd_check,
    "gate": cmd_gate,
    "image": cmd_image,
    "sync": cmd_sync,
    "status": cmd_status,
    "rejected": cmd_rejected,
}


def speak(argv: Sequence[str] | None, env: Mapping[str, str]) -> str:
    """Choose and activate the screen's language before anything is said (``i18n`` rule):
    ``--lang``, ``TRACE_SCAN_LANG``, the config file's ``lang``, then the locale."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--lang")
    early.add_argument("--home")
    known, _rest = early.parse_known_args(argv)
    try:
        configured = env.get("TRACE_SCAN_LANG") or read_file(
            (Path(known.home).expanduser() if known.home else default_home(env)) / CONFIG_NAME
        ).get("lang")
    except SettingsError:
        configured = None  # the command says what is wrong with the file
    language = i18n.choose(known.lang, configured, env)
    i18n.activate(language)
    return language


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    speak(argv, os.environ)
    args = build_parser().parse_args(argv)
    try:
        flags = (
            {}
            if args.command == "config"
            else {"server": args.server, "token": args.token, "gate": args.gate, "lang": args.lang}
        )
        settings = load(flags, os.environ, args.home)
        return COMMANDS[args.command](args, settings)
    except SettingsError as error:
        print(f"trace-scan: {error}", file=sys.stderr)
        return 2
