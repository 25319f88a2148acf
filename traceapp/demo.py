"""Demo data, built through the real services (never raw inserts): ``traceapp demo``."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from traceapp.certificates import services as certificates
from traceapp.certificates.models import Basis, Category, Certificate, Commitment, Unit
from traceapp.orgs import services as orgs
from traceapp.orgs.models import Organisation, OrgKind, Role, User
from traceapp.orgs.services import Actor

PASSWORD = "demo-pass-2026"
PRODUCER_EMAIL = "farmer@demo.traceapp"
MARKET_EMAIL = "market@demo.traceapp"
REGULATOR_EMAIL = "regulator@demo.traceapp"
COOP_NAME = "武汉木兰蔬菜专业合作社"


@dataclass
class DemoSummary:
    """What the demo created, to print for the person who started it."""

    logins: list[tuple[str, str]]
    token: str
    codes: list[tuple[str, str]] = field(default_factory=list)

    def describe(self, base_url: str) -> str:
        lines = ["traceapp demo", f"  open {base_url}/login", "  logins (password " + PASSWORD + "):"]
        lines += [f"    {email:28} {what}" for email, what in self.logins]
        lines += [f"  API token for {PRODUCER_EMAIL}: {self.token}", "  trace codes:"]
        lines += [f"    {code}  {what}  {base_url}/t/{code}" for code, what in self.codes]
        return "\n".join(lines)


def seed_demo(session: Session) -> DemoSummary:
    """Create the demo organisations, users and certificates once; a new API token every run."""
    if session.scalar(sa.select(User).where(User.email == PRODUCER_EMAIL)) is None:
        _seed(session)
    _token, plaintext = orgs.create_api_token(session, email=PRODUCER_EMAIL)
    return DemoSummary(
        logins=[(PRODUCER_EMAIL, COOP_NAME), (MARKET_EMAIL, "market"),
                (REGULATOR_EMAIL, "regulator")],
        token=plaintext, codes=_demo_codes(session))


def _seed(session: Session) -> None:
    coop = orgs.create_organisation(session, kind=OrgKind.PRODUCER, name=COOP_NAME,
                                    region_code="420116", phone="13812345678")
    market = orgs.create_organisation(session, kind=OrgKind.MARKET, name="武汉白沙洲农副产品大市场",
                                      region_code="420106")
    regulator = orgs.create_organisation(session, kind=OrgKind.REGULATOR,
                                         name="武汉市农业农村局", region_code="420100")
    farmer = orgs.create_user(session, org_id=coop.id, email=PRODUCER_EMAIL, password=PASSWORD,
                              role=Role.ADMIN)
    for org, email in ((market, MARKET_EMAIL), (regulator, REGULATOR_EMAIL)):
        orgs.create_user(session, org_id=org.id, email=email, password=PASSWORD, role=Role.ADMIN)
    _issue_samples(session, Actor.of(farmer))


def _issue_samples(session: Session, actor: Actor) -> None:
    report = certificates.store_test_report(session, actor, filename="检测报告-2026-1120.png",
                                            content=_report_image(), max_bytes=10 * 1024 * 1024)
    harvest = date.today() - timedelta(days=1)
    base = {"unit": Unit.KG, "harvest_date": harvest, "commitments": list(Commitment),
            "origin": {"region_code": "420116", "address": "木兰乡双河村"}}
    samples = [
        {"product_name": "大白菜", "category": Category.VEGETABLE, "quantity": Decimal("500"),
         "basis": [Basis.SELF_TEST, Basis.INTERNAL_QC]},
        {"product_name": "西兰花", "category": Category.VEGETABLE, "quantity": Decimal("120.5"),
         "basis": [Basis.COMMISSIONED_TEST], "test_report": {
             "lab_name": "武汉市农产品质量安全检测中心", "report_number": "WH-2026-11-0457",
             "report_id": report.id}},
        {"product_name": "草鸡蛋", "category": Category.EGG, "quantity": Decimal("40"),
         "unit": Unit.BOX, "basis": [Basis.SELF_COMMITMENT]},
    ]
    issued = [certificates.issue_certificate(session, actor, data={**base, **s})[0] for s in samples]
    certificates.revoke_certificate(session, actor, certificate_id=issued[2].id,
                                    reason="数量填写错误，已重新开具 / wrong quantity, re-issued")


def _report_image() -> bytes:
    image = Image.new("L", (600, 800), 255)
    ImageDraw.Draw(image).rectangle((20, 20, 580, 780), outline=0, width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _demo_codes(session: Session) -> list[tuple[str, str]]:
    coop = session.scalar(sa.select(Organisation).where(Organisation.name == COOP_NAME))
    rows = session.scalars(sa.select(Certificate).where(Certificate.org_id == coop.id)
                           .order_by(Certificate.issued_at)).all() if coop else []
    return [(c.trace_code, f"{c.product_name} ({c.status.value})") for c in rows]
