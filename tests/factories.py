"""``make_*`` helpers with sensible defaults: each builds through the real services and flushes."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask
from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from traceapp.certificates import services as certificates
from traceapp.certificates.models import Basis, Certificate, Commitment, Unit
from traceapp.orgs import services as orgs
from traceapp.orgs.models import Organisation, OrgKind, Role, User
from traceapp.orgs.services import Actor

PASSWORD = "correct-horse-9"


def ref(prefix: str = "") -> str:
    """A short random reference, so objects never clash between tests or runs."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def certificate_body(**overrides: Any) -> dict[str, Any]:
    """A valid ``POST /api/v1/certificates`` body (the contract's example)."""
    body: dict[str, Any] = {
        "product_name": "大白菜",
        "quantity": "500",
        "unit": "kg",
        "origin": {"region_code": "420116", "address": "黄陂区木兰乡"},
        "harvest_date": "2026-11-20",
        "commitments": ["no_banned_substances", "residues_within_limits", "truthful"],
        "basis": ["self_test"],
    }
    body.update(overrides)
    return body


def seal_image(size: int = 240, fmt: str = "PNG", colour: tuple[int, int, int] = (200, 20, 30)) -> bytes:
    """A seal as people scan one: a red ring on a transparent ground (PNG), or on white paper
    (JPEG), with a filled dot in the middle."""
    mode = "RGBA" if fmt == "PNG" else "RGB"
    image = Image.new(mode, (size, size), (255, 255, 255, 0) if mode == "RGBA" else (255, 255, 255))
    draw = ImageDraw.Draw(image)
    ink = (*colour, 255) if mode == "RGBA" else colour
    draw.ellipse((4, 4, size - 5, size - 5), outline=ink, width=size // 10)
    draw.ellipse((size * 0.4, size * 0.4, size * 0.6, size * 0.6), fill=ink)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


@dataclass
class Member:
    """A user with their organisation, actor and API token."""

    org: Organisation
    user: User
    actor: Actor
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Factory:
    session: Session
    app: Flask

    def org(self, kind: OrgKind = OrgKind.PRODUCER, **kwargs: Any) -> Organisation:
        kwargs.setdefault("name", ref("合作社-"))
        kwargs.setdefault("region_code", "420116")
        with self.app.test_request_context():
            return orgs.create_organisation(self.session, kind=kind, **kwargs)

    def member(
        self,
        kind: OrgKind = OrgKind.PRODUCER,
        *,
        org: Organisation | None = None,
        role: Role = Role.ADMIN,
        mobile: str | None = None,
        **org_kwargs: Any,
    ) -> Member:
        org = org or self.org(kind, **org_kwargs)
        email = f"{ref('u')}@example.cn"
        with self.app.test_request_context():
            user = orgs.create_user(
                self.session, org_id=org.id, email=email, password=PASSWORD, role=role, mobile=mobile
            )
            _token, plaintext = orgs.create_api_token(self.session, email=email)
        return Member(org, user, Actor.of(user), plaintext)

    def certificate(self, member: Member, issued_at: datetime | None = None, **data: Any) -> Certificate:
        values: dict[str, Any] = {
            "product_name": "大白菜",
            "quantity": Decimal("500"),
            "unit": Unit.KG,
            "origin": {"region_code": "420116", "address": "木兰乡"},
            "harvest_date": date(2026, 11, 20),
            "commitments": list(Commitment),
            "basis": [Basis.SELF_TEST],
        }
        values.update(data)
        with self.app.test_request_context():
            certificate, _created = certificates.issue_certificate(
                self.session, member.actor, data=values, issued_at=issued_at
            )
            self.session.commit()  # as a request would: its public page is stored
        return certificate
