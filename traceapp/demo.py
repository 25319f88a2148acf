"""Demo data, built through the real services (never raw inserts): ``traceapp demo``."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa
from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from traceapp import clock, phones
from traceapp.certificates import services as certificates
from traceapp.certificates.models import Basis, Category, Certificate, Commitment, Unit
from traceapp.certificates.status import batch_status
from traceapp.db import utcnow
from traceapp.events.models import EventKind
from traceapp.events.queries import batch_facts_of
from traceapp.events.services import EventSettings, record_event
from traceapp.orgs import services as orgs
from traceapp.orgs.models import Organisation, OrgKind, Role, User
from traceapp.orgs.scopes import Scope
from traceapp.orgs.services import Actor

PASSWORD = "demo-pass-2026"
PRODUCER_EMAIL = "farmer@demo.traceapp"
#: The farmer signs in with this mobile number too (typed any way: 13900139000, 139 0013 9000).
PRODUCER_MOBILE = "+8613900139000"
MARKET_EMAIL = "market@demo.traceapp"
CARRIER_EMAIL = "carrier@demo.traceapp"
REGULATOR_EMAIL = "regulator@demo.traceapp"
LOGINS = (PRODUCER_EMAIL, MARKET_EMAIL, CARRIER_EMAIL, REGULATOR_EMAIL)
COOP_NAME = "武汉木兰蔬菜专业合作社"
COOP_ZONE = "Asia/Shanghai"
CST = timezone(timedelta(hours=8), "CST")
#: How long before the seed the sample batches were issued (their journey takes 50 minutes).
JOURNEY_BEFORE_NOW = timedelta(minutes=90)


@dataclass
class DemoSummary:
    """What the demo created, to print for the person who started it."""

    logins: list[tuple[str, str]]
    token: str
    market_token: str
    codes: list[tuple[str, str]] = field(default_factory=list)

    def describe(self, base_url: str) -> str:
        lines = ["traceapp demo", f"  open {base_url}/login", "  logins (password " + PASSWORD + "):"]
        lines += [f"    {email:28} {what}" for email, what in self.logins]
        lines += [f"    {phones.display(PRODUCER_MOBILE):28} the farmer again, by mobile number"]
        lines += [
            f"  API token for {PRODUCER_EMAIL}: {self.token}",
            f"  API token for {MARKET_EMAIL} (for trace-scan): {self.market_token}",
            "  trace codes:",
        ]
        lines += [f"    {code}  {what}  {base_url}/t/{code}" for code, what in self.codes]
        return "\n".join(lines)


def seed_demo(session: Session, settings: EventSettings) -> DemoSummary:
    """Create the demo organisations, users, certificates and journeys once; a new API token
    every run."""
    if session.scalar(sa.select(User).where(User.email == PRODUCER_EMAIL)) is None:
        _seed(session, settings)
    _token, plaintext = orgs.create_api_token(session, email=PRODUCER_EMAIL, name="demo")
    _token, market_plaintext = orgs.create_api_token(
        session, email=MARKET_EMAIL, name="trace-scan demo", scopes={Scope.READ, Scope.EVENTS}
    )
    return DemoSummary(
        logins=[(email, _org_of(session, email)) for email in LOGINS],
        token=plaintext,
        market_token=market_plaintext,
        codes=_demo_codes(session),
    )


def _seed(session: Session, settings: EventSettings) -> None:
    coop = orgs.create_organisation(
        session, kind=OrgKind.PRODUCER, name=COOP_NAME, region_code="420116", phone="13812345678"
    )
    market = orgs.create_organisation(
        session, kind=OrgKind.MARKET, name="武汉白沙洲农副产品大市场", region_code="420106"
    )
    regulator = orgs.create_organisation(
        session, kind=OrgKind.REGULATOR, name="武汉市农业农村局", region_code="420100"
    )
    carrier = orgs.create_organisation(
        session, kind=OrgKind.CARRIER, name="楚天冷链物流", region_code="420106"
    )
    farmer = orgs.create_user(
        session,
        org_id=coop.id,
        email=PRODUCER_EMAIL,
        mobile=PRODUCER_MOBILE,
        password=PASSWORD,
        role=Role.ADMIN,
    )
    users = [
        orgs.create_user(session, org_id=org.id, email=email, password=PASSWORD, role=Role.ADMIN)
        for org, email in ((market, MARKET_EMAIL), (carrier, CARRIER_EMAIL), (regulator, REGULATOR_EMAIL))
    ]
    issued = _issue_samples(session, Actor.of(farmer))
    _journey(session, settings, Actor.of(farmer), Actor.of(users[1]), Actor.of(users[0]), issued[0])
    _on_its_way(session, settings, Actor.of(farmer), Actor.of(users[1]), Actor.of(users[0]), issued[1])


def _issue_samples(session: Session, actor: Actor) -> list[Certificate]:
    report = certificates.store_test_report(
        session, actor, filename="检测报告-2026-1120.png", content=_report_image(), max_bytes=10 * 1024 * 1024
    )
    harvest = clock.today_in(COOP_ZONE) - timedelta(days=1)  # yesterday, in China
    base = {
        "unit": Unit.KG,
        "harvest_date": harvest,
        "commitments": list(Commitment),
        "origin": {"region_code": "420116", "address": "木兰乡双河村"},
    }
    samples = [
        {
            "product_name": "大白菜",
            "category": Category.VEGETABLE,
            "quantity": Decimal("500"),
            "basis": [Basis.SELF_TEST, Basis.INTERNAL_QC],
        },
        {
            "product_name": "西兰花",
            "category": Category.VEGETABLE,
            "quantity": Decimal("120.5"),
            "basis": [Basis.COMMISSIONED_TEST],
            "test_report": {
                "lab_name": "武汉市农产品质量安全检测中心",
                "report_number": "WH-2026-11-0457",
                "report_id": report.id,
            },
        },
        {
            "product_name": "草鸡蛋",
            "category": Category.EGG,
            "quantity": Decimal("40"),
            "unit": Unit.BOX,
            "basis": [Basis.SELF_COMMITMENT],
        },
    ]
    # Issued a while ago, so that the cabbage's journey (``_journey``) is over by now.
    issued_at = utcnow() - JOURNEY_BEFORE_NOW
    issued = [
        certificates.issue_certificate(session, actor, data={**base, **s}, issued_at=issued_at)[0]
        for s in samples
    ]
    certificates.revoke_certificate(
        session,
        actor,
        certificate_id=issued[2].id,
        reason="数量填写错误，已重新开具 / wrong quantity, re-issued",
    )
    return issued


def _journey(
    session: Session,
    settings: EventSettings,
    farmer: Actor,
    carrier: Actor,
    market: Actor,
    batch: Certificate,
) -> None:
    """The cabbage's trip: shipped to the market by a cold-chain carrier (with a warm spell on
    the way), checked and accepted at the gate with a rapid test, a portion sold on.

    It starts just after the (backdated) issue and is compressed into the hour that follows
    (readings every two minutes), so the timeline reads in order and ends before the seed: no
    event lies in the future.
    """
    start = (batch.issued_at + timedelta(minutes=2)).astimezone(CST).replace(second=0, microsecond=0)
    steps = [
        (
            farmer,
            {
                "kind": EventKind.SHIPPING,
                "occurred_at": start,
                "trace_code": batch.trace_code,
                "quantity": Decimal("480"),
                "unit": Unit.KG,
                "to_org": market.org_id,
                "carrier_org": carrier.org_id,
                "location": "木兰乡双河村集货点",
            },
        ),
        (
            carrier,
            {
                "kind": EventKind.TRANSPORTING,
                "occurred_at": start,
                "trace_code": batch.trace_code,
                "location": "鄂A·C2345 冷藏车",
                "temperatures": _warm_spell(start),
            },
        ),
        (
            market,
            {
                "kind": EventKind.INSPECTING,
                "occurred_at": start + timedelta(minutes=40),
                "trace_code": batch.trace_code,
                "certificate_status": "valid",
                "result": "accepted",
                "quantity": Decimal("476"),
                "unit": Unit.KG,
                "location": "东门查验点",
                "brought_by": {"name": "楚天冷链 刘师傅", "vehicle": "鄂A·C2345"},
                "tests": [
                    {
                        "method": "enzyme_inhibition",
                        "item": "有机磷和氨基甲酸酯类农药",
                        "value": Decimal("18.6"),
                        "value_unit": "%",
                        "tester": "陈检测",
                        "device": "农残速测仪 RP-410",
                    }
                ],
            },
        ),
        (
            market,
            {
                "kind": EventKind.PORTIONING,
                "occurred_at": start + timedelta(minutes=50),
                "trace_code": batch.trace_code,
                "location": "A区 12号摊位",
                "outputs": [{"quantity": Decimal("25"), "unit": Unit.KG}],
            },
        ),
    ]
    for actor, data in steps:
        record_event(session, actor, data={"event_id": uuid.uuid4(), **data}, settings=settings)


def _on_its_way(
    session: Session,
    settings: EventSettings,
    farmer: Actor,
    carrier: Actor,
    market: Actor,
    batch: Certificate,
) -> None:
    """Part of the broccoli shipped to the market by the carrier a little before now and not yet
    received: the carrier sees it in its care, the market sees it on its way."""
    data = {
        "event_id": uuid.uuid4(),
        "kind": EventKind.SHIPPING,
        "occurred_at": (utcnow() - timedelta(minutes=20)).astimezone(CST).replace(second=0, microsecond=0),
        "trace_code": batch.trace_code,
        "quantity": Decimal("60"),
        "unit": Unit.KG,
        "to_org": market.org_id,
        "carrier_org": carrier.org_id,
        "location": "木兰乡双河村集货点",
    }
    record_event(session, farmer, data=data, settings=settings)


def _warm_spell(start: datetime) -> list[dict[str, object]]:
    """Readings every 2 minutes; the reefer warms to 8.4 °C for a few minutes."""
    values = [2.8, 3.0, 3.1, 3.3, 3.2, 3.4, 3.6, 4.2, 5.6, 7.1, 8.4, 6.2, 4.8, 4.1, 3.7, 3.5, 3.3, 3.2, 3.1]
    return [
        {"at": start + timedelta(minutes=2 * i), "celsius": Decimal(str(v))} for i, v in enumerate(values)
    ]


def _report_image() -> bytes:
    image = Image.new("L", (600, 800), 255)
    ImageDraw.Draw(image).rectangle((20, 20, 580, 780), outline=0, width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _org_of(session: Session, email: str) -> str:
    """``武汉白沙洲农副产品大市场 (market)``: who signs in with ``email``."""
    user = session.scalars(sa.select(User).where(User.email == email)).one()
    org = session.get(Organisation, user.org_id)
    return f"{org.name} ({org.kind.value})" if org else ""


def _demo_codes(session: Session) -> list[tuple[str, str]]:
    """Each batch of the demo's organisations with its status by the one status rule (a
    recalled or rejected batch is not valid, whatever its certificate says)."""
    demo_orgs = sa.select(User.org_id).where(User.email.in_(LOGINS))
    rows = list(
        session.scalars(
            sa.select(Certificate)
            .where(Certificate.org_id.in_(demo_orgs))
            .order_by(Certificate.issued_at, Certificate.product_name)
            .limit(10)
        )
    )
    facts = batch_facts_of(session, rows)
    return [
        (c.trace_code, f"{c.product_name} ({c.kind.value}, {batch_status(facts[c.id]).value})") for c in rows
    ]
