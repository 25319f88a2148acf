"""Where the server is, which token to send, the gate's name, and the folder for local state.

Each setting comes from the first of: a command-line flag, the environment
(``TRACE_SCAN_SERVER``, ``TRACE_SCAN_TOKEN``, ``TRACE_SCAN_GATE``), the config file
``config.toml`` in the home folder. The home folder (config, outbox, cache) is ``--home``, else
``TRACE_SCAN_HOME``, else ``$XDG_CONFIG_HOME/trace-scan``, else ``~/.config/trace-scan``
(``%APPDATA%\\trace-scan`` on Windows). The config file holds a token, so it is written
with mode 0600 in a folder with mode 0700.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from scanner_client.i18n import N_, _

KEYS = ("server", "token", "gate", "lang")
ENV = {
    "server": "TRACE_SCAN_SERVER",
    "token": "TRACE_SCAN_TOKEN",
    "gate": "TRACE_SCAN_GATE",
    "lang": "TRACE_SCAN_LANG",
}
NAMES = {"server": N_("server"), "token": N_("token")}
CONFIG_NAME = "config.toml"
OUTBOX_NAME = "outbox.sqlite3"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says how to fix it."""


@dataclass(frozen=True)
class Settings:
    """The effective settings, and for each the place it came from (flag, env, file)."""

    home: Path
    server: str | None = None
    token: str | None = None
    gate: str | None = None
    #: The language asked for (``--lang``, ``TRACE_SCAN_LANG`` or the file), before the locale.
    lang: str | None = None
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_NAME

    @property
    def outbox_path(self) -> Path:
        return self.home / OUTBOX_NAME

    def require_server(self) -> tuple[str, str]:
        """Server URL and token. Raises SettingsError naming what is missing."""
        if self.server and self.token:
            return self.server, self.token
        missing = [key for key in ("server", "token") if not getattr(self, key)]
        flags = " ".join(f"--{key} ..." for key in missing)
        raise SettingsError(
            _("No {missing} configured: run `trace-scan config {flags}` or set {variables}.").format(
                missing=_(" or ").join(_(NAMES[key]) for key in missing),
                flags=flags,
                variables=_(" and ").join(ENV[key] for key in missing),
            )
        )


def default_home(env: Mapping[str, str]) -> Path:
    """The home folder from the environment (module rule)."""
    if env.get("TRACE_SCAN_HOME"):
        return Path(env["TRACE_SCAN_HOME"]).expanduser()
    if os.name == "nt" and env.get("APPDATA"):
        return Path(env["APPDATA"]) / "trace-scan"
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "trace-scan"


def normalize_server(url: str) -> str:
    """``url`` without a trailing slash. Raises SettingsError unless http(s)://host[:port][/path]."""
    parts = urlsplit(url.strip())
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or not port_ok
    ):
        raise SettingsError(
            _("The server must look like https://trace.example.cn, not {url!r}.").format(url=url)
        )
    return url.strip().rstrip("/")


def read_file(path: Path) -> dict[str, str]:
    """The settings in the config file (empty if there is none). Raises SettingsError if unreadable."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(_("Cannot read {path}: {error}").format(path=path, error=error)) from error
    return {key: str(data[key]) for key in KEYS if data.get(key) not in (None, "")}


def load(flags: Mapping[str, str | None], env: Mapping[str, str], home: str | None = None) -> Settings:
    """The effective settings: flags, then environment, then the config file.

    Raises SettingsError for an unreadable config file or a malformed server URL.
    """
    folder = Path(home).expanduser() if home else default_home(env)
    stored = read_file(folder / CONFIG_NAME)
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for key in KEYS:
        for source, value in (
            ("flag", flags.get(key)),
            ("env", env.get(ENV[key])),
            ("file", stored.get(key)),
        ):
            if value:
                values[key], sources[key] = value, source
                break
    if "server" in values:
        values["server"] = normalize_server(values["server"])
    return Settings(folder, sources=sources, **values)


def _toml(values: Mapping[str, str]) -> str:
    # JSON string escapes are valid TOML basic-string escapes.
    lines = ["# trace-scan settings (written by `trace-scan config`; holds an API token)"]
    lines += [f"{key} = {json.dumps(values[key], ensure_ascii=False)}" for key in KEYS if key in values]
    return "\n".join(lines) + "\n"


def save(home: Path, changes: Mapping[str, str]) -> Path:
    """Merge ``changes`` into the config file, atomically, with mode 0600; return its path.

    Raises SettingsError for a malformed server URL or an unwritable folder.
    """
    values = read_file(home / CONFIG_NAME)
    values.update({key: value for key, value in changes.items() if value})
    if "server" in values:
        values["server"] = normalize_server(values["server"])
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=home, prefix=".config-", suffix=".toml")
        with os.fdopen(handle, "w", encoding="utf-8") as out:  # mkstemp creates it 0600
            out.write(_toml(values))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, home / CONFIG_NAME)
    except OSError as error:
        raise SettingsError(
            _("Cannot write the config file in {home}: {error}").format(home=home, error=error)
        ) from error
    return home / CONFIG_NAME


def masked(token: str | None) -> str:
    """A token shown without giving it away: its first 8 characters."""
    if not token:
        return _("(none)")
    return token[:8] + "…" if len(token) > 8 else "…"
