"""How a delivery leaves: e-mail, SMS and webhook senders, chosen by URL settings.

``NOTIFY_EMAIL_URL``: ``console`` (the default: logged), ``file:///path`` (one JSON line per
message appended to the file), ``smtp://user:pass@host:port?starttls=1&from=addr`` or
``smtps://...`` (stdlib smtplib). ``NOTIFY_SMS_URL``: ``console`` (default), ``file:///path``,
or ``tencent://SECRET_ID:SECRET_KEY@sms.tencentcloudapi.com?app=SDK_APP_ID&sign=SIGN_NAME&
template=TEMPLATE_ID&region=ap-guangzhou`` (Tencent Cloud SMS API 3.0, ``SendSms``, signed
with TC3-HMAC-SHA256). Webhooks POST JSON to the organisation's URL, signed with its secret
(``X-Traceapp-Signature: sha256=<hex HMAC-SHA256 of the body>``).

Every message carries its delivery id, the idempotency key a receiver can use to drop a
repeat (Message-ID, ``X-Traceapp-Delivery``, the SMS session context): a delivery is claimed
before it is sent and skipped once sent (``services``), so a repeat can only follow a crash
between sending and recording it. Senders raise SendFailed; the job retries.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import os
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger("traceapp.notify")

#: Seconds a sender waits for the other side.
TIMEOUT = 10
SIGNATURE_HEADER = "X-Traceapp-Signature"
DELIVERY_HEADER = "X-Traceapp-Delivery"


class SendFailed(Exception):
    """The message did not leave (the job retries it)."""


@dataclass(frozen=True)
class Message:
    """One delivery, ready to send: the text in both languages, the webhook's JSON body."""

    delivery_id: str
    channel: str
    to: str
    subject: str
    text: str
    body: dict[str, Any] = field(default_factory=dict)
    #: The webhook's signing secret: as stored (sealed) when claimed, opened by the task
    #: just before it sends (``notify/tasks.py``).
    secret: str | None = None


Sender = Callable[[Message], None]


def sender_for(url: str, channel: str) -> Sender:
    """The sender a URL setting names. Raises ValueError for a scheme we do not know."""
    scheme = urlsplit(url).scheme if url else "console"
    if url in ("", "console"):
        return _console
    if scheme == "file":
        return FileSender(Path(unquote(urlsplit(url).path)))
    if channel == "email" and scheme in ("smtp", "smtps"):
        return SmtpSender.from_url(url)
    if channel == "sms" and scheme == "tencent":
        return TencentSms.from_url(url)
    raise ValueError(f"unknown {channel} sender URL scheme {scheme!r}")


def _console(message: Message) -> None:
    log.info("notification %s to %s: %s\n%s", message.delivery_id, message.to, message.subject, message.text)


@dataclass(frozen=True)
class FileSender:
    """Appends one JSON line per message (a development outbox; tests read it)."""

    path: Path

    def __call__(self, message: Message) -> None:
        line = json.dumps(
            {
                "delivery_id": message.delivery_id,
                "to": message.to,
                "subject": message.subject,
                "text": message.text,
            },
            ensure_ascii=False,
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One write of a short line to a file opened for appending: lines from several
            # worker threads do not interleave.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, (line + "\n").encode("utf-8"))
            finally:
                os.close(fd)
        except OSError as exc:
            raise SendFailed(f"cannot write {self.path}: {exc}") from exc


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    user: str | None
    password: str | None
    sender: str
    ssl: bool
    starttls: bool

    @classmethod
    def from_url(cls, url: str) -> SmtpSender:
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        secure = parts.scheme == "smtps"
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if secure else 25),
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=query.get("from") or f"traceapp@{parts.hostname or 'localhost'}",
            ssl=secure,
            starttls=query.get("starttls", "0") in ("1", "true", "yes"),
        )

    def __call__(self, message: Message) -> None:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self.sender, message.to, message.subject
        mail["Message-ID"] = f"<{message.delivery_id}@traceapp>"
        mail.set_content(message.text)
        try:
            smtp_class = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
            with smtp_class(self.host, self.port, timeout=TIMEOUT) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"SMTP {self.host}:{self.port}: {exc}") from exc


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an address to follow: following one would let a receiver
    send our POST (as a GET) to an address the public-host check never saw."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _pinned_opener(address: str) -> urllib.request.OpenerDirector:
    """An opener whose connections go to ``address`` whatever the URL's host resolves to by
    then: the URL's host still names the server in ``Host``, in TLS's SNI and in the
    certificate check. No proxy: a proxy would connect where it likes."""

    def connection(base: type[http.client.HTTPConnection]) -> type[http.client.HTTPConnection]:
        class Pinned(base):  # type: ignore[misc, valid-type]
            def connect(self) -> None:
                self.sock = socket.create_connection((address, self.port), self.timeout)
                if isinstance(self, http.client.HTTPSConnection):
                    self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)

        return Pinned

    class Http(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(connection(http.client.HTTPConnection), req)

    class Https(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(
                connection(http.client.HTTPSConnection), req, context=ssl.create_default_context()
            )

    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects, Http, Https)


def post_json(url: str, payload: bytes, headers: dict[str, str], *, address: str | None = None) -> bytes:
    """POST ``payload``; the answer's body. With ``address``, connect to it rather than to what
    the URL's host resolves to now (:func:`public_host` checked that address). Raises
    SendFailed unless the answer is 2xx (a redirect included: it is never followed)."""
    request = urllib.request.Request(url, data=payload, method="POST", headers=headers)
    opener = _OPENER if address is None else _pinned_opener(address)
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        exc.close()  # its body is an open response
        raise SendFailed(f"{url} answered {exc.code}") from None
    except (OSError, ValueError) as exc:
        raise SendFailed(f"{url}: {exc}") from exc


def signature(secret: str, body: bytes) -> str:
    """The webhook signature header's value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def public_host(url: str, *, allow_private: bool = False) -> str:
    """The address to send to: what the URL's host resolves to, once. Refuse (unless
    ``allow_private``) a host that is, or resolves to, a loopback, private, link-local or
    otherwise non-public address: an organisation's admin sets its webhook, and it must not
    make our worker call the database, the broker or a cloud metadata service. Raises
    SendFailed.

    Checked when the delivery is sent (a name may resolve elsewhere later than it was set), and
    the delivery then connects to the address checked, not to a second resolution: a name
    that answers a public address to the check and a private one to the connection (DNS
    rebinding) reaches only the public one.
    """
    host = urlsplit(url).hostname
    if not host:
        raise SendFailed(f"{url}: no host")
    try:
        found = [info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]
    except (OSError, UnicodeError) as exc:
        raise SendFailed(f"{url}: {exc}") from exc
    for address in found if not allow_private else ():
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise SendFailed(
                f"{url}: {host} is not a public address ({ip}); webhooks go to the internet only"
            )
    if not found:
        raise SendFailed(f"{url}: {host} has no address")
    return found[0]


def send_webhook(message: Message, *, allow_private: bool = False) -> None:
    """POST the notification's JSON to the organisation's URL, signed with its secret, to the
    address :func:`public_host` resolved and checked (any address if ``allow_private``,
    ``NOTIFY_WEBHOOK_ALLOW_PRIVATE``)."""
    address = public_host(message.to, allow_private=allow_private)
    body = json.dumps(message.body, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", DELIVERY_HEADER: message.delivery_id}
    if message.secret:
        headers[SIGNATURE_HEADER] = signature(message.secret, body)
    post_json(message.to, body, headers, address=address)


@dataclass(frozen=True)
class TencentSms:
    """Tencent Cloud SMS (API 3.0 ``SendSms``, version 2021-01-11), signed per its docs
    ("Signature v3", TC3-HMAC-SHA256). The template's parameters are the notification's title
    and trace code; ``endpoint`` overrides ``https://<host>`` (a test double)."""

    secret_id: str
    secret_key: str
    host: str
    app_id: str
    sign_name: str
    template_id: str
    region: str
    endpoint: str

    SERVICE = "sms"
    VERSION = "2021-01-11"
    ACTION = "SendSms"

    @classmethod
    def from_url(cls, url: str) -> TencentSms:
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        host = parts.hostname or "sms.tencentcloudapi.com"
        return cls(
            secret_id=unquote(parts.username or ""),
            secret_key=unquote(parts.password or ""),
            host=host,
            app_id=query.get("app", ""),
            sign_name=query.get("sign", ""),
            template_id=query.get("template", ""),
            region=query.get("region", "ap-guangzhou"),
            endpoint=query.get("endpoint", f"https://{host}"),
        )

    def payload(self, message: Message) -> bytes:
        phone = message.to if message.to.startswith("+") else f"+86{message.to}"
        return json.dumps(
            {
                "PhoneNumberSet": [phone],
                "SmsSdkAppId": self.app_id,
                "SignName": self.sign_name,
                "TemplateId": self.template_id,
                "TemplateParamSet": list(message.body.get("sms_params", [message.subject])),
                "SessionContext": message.delivery_id,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")

    def headers(self, payload: bytes, now: datetime) -> dict[str, str]:
        """The request headers with the TC3-HMAC-SHA256 ``Authorization``."""
        timestamp, day = int(now.timestamp()), now.astimezone(UTC).strftime("%Y-%m-%d")
        content_type = "application/json; charset=utf-8"
        signed = "content-type;host;x-tc-action"
        canonical = "\n".join(
            [
                "POST",
                "/",
                "",
                f"content-type:{content_type}\nhost:{self.host}\nx-tc-action:{self.ACTION.lower()}\n",
                signed,
                hashlib.sha256(payload).hexdigest(),
            ]
        )
        scope = f"{day}/{self.SERVICE}/tc3_request"
        to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        key = _hmac(("TC3" + self.secret_key).encode("utf-8"), day)
        key = _hmac(_hmac(key, self.SERVICE), "tc3_request")
        sig = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        credential = f"Credential={self.secret_id}/{scope}"
        return {
            "Authorization": f"TC3-HMAC-SHA256 {credential}, SignedHeaders={signed}, Signature={sig}",
            "Content-Type": content_type,
            "Host": self.host,
            "X-TC-Action": self.ACTION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": self.VERSION,
            "X-TC-Region": self.region,
        }

    def __call__(self, message: Message) -> None:
        payload = self.payload(message)
        answer = post_json(self.endpoint, payload, self.headers(payload, datetime.now(UTC)))
        try:
            response = json.loads(answer)["Response"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SendFailed(f"Tencent SMS: unreadable answer {answer[:200]!r}") from exc
        if "Error" in response:
            raise SendFailed(
                f"Tencent SMS: {response['Error'].get('Code')}: {response['Error'].get('Message')}"
            )
        statuses = response.get("SendStatusSet") or [{}]
        if statuses[0].get("Code") != "Ok":
            raise SendFailed(f"Tencent SMS: {statuses[0].get('Code')}: {statuses[0].get('Message')}")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()
