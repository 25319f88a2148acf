"""Who may do what: one table of actions → the kinds of organisation (and roles) that may do them.

The table answers one question: may an organisation of this kind, a user with this role, *ever*
do this action? Services ask it before anything else (``require``); views ask it only to decide
which buttons and forms to show (``allows``). Whether this actor may do it to *this* object (the
holder of the batch, the issuer of the certificate, a party to the recall) stays with the
service that knows the object.

Pure: it reads no database and no request; the refusal messages live in ``orgs/texts.py``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from traceapp.errors import PermissionDenied
from traceapp.orgs.models import OrgKind, Role


class Action(enum.Enum):
    """Everything the table decides."""

    ISSUE = "issue"  # a certificate, and the outputs of a transformation
    UPLOAD_REPORT = "upload_report"  # a lab report for a certificate
    REVOKE = "revoke"  # a certificate the user issued
    REVOKE_COLLEAGUES = "revoke_colleagues"  # one another user of the organisation issued
    SHIP = "ship"
    RECEIVE = "receive"
    STORE = "store"
    TRANSPORT = "transport"
    INSPECT = "inspect"  # a gate check (查验), with rapid tests
    TRANSFORM = "transform"  # consume inputs into new batches
    PORTION = "portion"  # split a held batch into portions with their own codes
    SELL = "sell"  # at retail
    DESTROY = "destroy"
    AGGREGATE = "aggregate"  # pack cases of held batches onto a pallet with an SSCC
    CORRECT = "correct"  # void or correct an event the organisation recorded
    RECALL = "recall"  # batches the organisation issued
    RECALL_ANY = "recall_any"  # any batch
    ACKNOWLEDGE_RECALL = "acknowledge_recall"  # one the organisation is party to
    CLOSE_RECALL = "close_recall"  # one the organisation opened
    CLOSE_ANY_RECALL = "close_any_recall"
    EXPORT_RECALL = "export_recall"  # the affected events of a recall the organisation may see
    SEE_ALL_RECALLS = "see_all_recalls"  # not only those the organisation is party to
    SEE_OVERVIEW = "see_overview"  # certificates, gate checks, excursions by region and week
    TRACE_FULL = "trace_full"  # beyond one step, without being party to a recall of the batch
    MANAGE_TOKENS = "manage_tokens"  # one's own API tokens (an admin: the organisation's)
    SEE_AUDIT_LOG = "see_audit_log"  # the organisation's own
    SEE_ALL_AUDIT_LOGS = "see_all_audit_logs"  # every organisation's
    HAND_OVER = "hand_over"  # give a gate a hand-over code for stock the organisation holds
    DISPUTE = "dispute"  # object to a gate check that took the organisation's stock
    RESOLVE_DISPUTE = "resolve_dispute"  # uphold (custody returns) or dismiss a dispute
    MANAGE_MEMBERS = "manage_members"  # add the organisation's users, reset their passwords
    MANAGE_SETTINGS = "manage_settings"  # the organisation's settings (its time zone)
    READ_NOTIFICATIONS = "read_notifications"  # the organisation's inbox (and mark them read)
    MANAGE_NOTIFICATIONS = "manage_notifications"  # where they go: contact e-mail, SMS, webhook
    CAPTURE_EPCIS = "capture_epcis"  # EPCIS 2.0 documents and events into the repository (/epcis)
    QUERY_EPCIS = "query_epcis"  # the repository's events the organisation may see
    SEE_ALL_EPCIS = "see_all_epcis"  # every organisation's captured events
    PURCHASE = "purchase"  # record (and void) a purchase (收购) with the certificates collected
    SEE_ALL_PURCHASES = "see_all_purchases"  # every buyer's, not only one's own or of one's lots


@dataclass(frozen=True)
class Who:
    """The kinds of organisation, and the roles inside them, that may do an action."""

    kinds: frozenset[OrgKind]
    roles: frozenset[Role] = frozenset(Role)


K = OrgKind
#: Producers, processors and markets put their name to a certificate: a market for what it cuts
#: or sells on, a processor for what it makes (DOMAIN §2: a buyer who mixes or splits issues anew).
ISSUERS = frozenset({K.PRODUCER, K.PROCESSOR, K.MARKET})
#: Everyone who takes goods into custody; a regulator checks and recalls, it does not trade.
HANDLERS = frozenset({K.PRODUCER, K.MARKET, K.CARRIER, K.PROCESSOR, K.RETAILER})
EVERYONE = frozenset(OrgKind)
REGULATOR = frozenset({K.REGULATOR})
#: Who buys produce from others and must collect its certificates ("无证不收").
BUYERS = frozenset({K.MARKET, K.PROCESSOR})

TABLE: Mapping[Action, Who] = {
    Action.ISSUE: Who(ISSUERS),
    Action.UPLOAD_REPORT: Who(ISSUERS),
    Action.REVOKE: Who(ISSUERS),
    Action.REVOKE_COLLEAGUES: Who(ISSUERS, frozenset({Role.ADMIN})),
    Action.SHIP: Who(HANDLERS),
    Action.RECEIVE: Who(HANDLERS),
    Action.STORE: Who(HANDLERS),
    Action.TRANSPORT: Who(HANDLERS),
    Action.INSPECT: Who(frozenset({K.MARKET, K.REGULATOR})),
    Action.TRANSFORM: Who(frozenset({K.PROCESSOR, K.MARKET})),
    Action.PORTION: Who(frozenset({K.MARKET})),
    # Carriers and cold stores keep and move other people's goods; they do not sell them.
    Action.SELL: Who(HANDLERS - {K.CARRIER}),
    Action.DESTROY: Who(HANDLERS),
    # Whoever packs goods it holds onto pallets; carriers move pallets, they do not build them.
    Action.AGGREGATE: Who(HANDLERS - {K.CARRIER}),
    Action.CORRECT: Who(EVERYONE),
    # Whoever issued a batch may recall it (the service checks it is theirs); a regulator any.
    Action.RECALL: Who(ISSUERS | REGULATOR),
    Action.RECALL_ANY: Who(REGULATOR),
    Action.ACKNOWLEDGE_RECALL: Who(EVERYONE),
    Action.CLOSE_RECALL: Who(ISSUERS | REGULATOR),
    Action.CLOSE_ANY_RECALL: Who(REGULATOR),
    # Whoever may see a recall may take its rows away (the service checks it may see it).
    Action.EXPORT_RECALL: Who(EVERYONE),
    Action.SEE_ALL_RECALLS: Who(REGULATOR),
    Action.SEE_OVERVIEW: Who(REGULATOR),
    Action.TRACE_FULL: Who(REGULATOR),
    Action.MANAGE_TOKENS: Who(EVERYONE),
    Action.SEE_AUDIT_LOG: Who(EVERYONE, frozenset({Role.ADMIN})),
    Action.SEE_ALL_AUDIT_LOGS: Who(REGULATOR),
    # Custody moves only with the holder's word; whoever held it may object, a regulator decides.
    Action.HAND_OVER: Who(HANDLERS),
    Action.DISPUTE: Who(HANDLERS),
    Action.RESOLVE_DISPUTE: Who(REGULATOR),
    # An organisation's admin looks after its own people and settings, of whatever kind.
    Action.MANAGE_MEMBERS: Who(EVERYONE, frozenset({Role.ADMIN})),
    Action.MANAGE_SETTINGS: Who(EVERYONE, frozenset({Role.ADMIN})),
    # Everyone is told what happened to its batches (a regulator: gate rejections in its region).
    Action.READ_NOTIFICATIONS: Who(EVERYONE),
    Action.MANAGE_NOTIFICATIONS: Who(EVERYONE, frozenset({Role.ADMIN})),
    # Any partner system speaks EPCIS (a regulator's platform too); each sees what it captured,
    # a regulator everything.
    Action.CAPTURE_EPCIS: Who(EVERYONE),
    Action.QUERY_EPCIS: Who(EVERYONE),
    Action.SEE_ALL_EPCIS: Who(REGULATOR),
    # Buyers (收购): markets and processors collect the certificate of every lot they buy and
    # re-issue for what they mix or split (DOMAIN §2); a regulator reads every purchase.
    Action.PURCHASE: Who(BUYERS),
    Action.SEE_ALL_PURCHASES: Who(REGULATOR),
}


class Acting(Protocol):
    """What the table needs to know of an actor (``orgs.services.Actor`` has it)."""

    @property
    def org_kind(self) -> OrgKind: ...

    @property
    def role(self) -> Role: ...


def may(kind: OrgKind, role: Role, action: Action) -> bool:
    """Whether an organisation of ``kind``, a user with ``role`` in it, may ever do ``action``."""
    who = TABLE[action]
    return kind in who.kinds and role in who.roles


def allows(actor: Acting, action: Action) -> bool:
    """``may`` for an actor: for views deciding which buttons and forms to show."""
    return may(actor.org_kind, actor.role, action)


def require(actor: Acting, action: Action) -> None:
    """Raise PermissionDenied (403) unless the actor's kind and role may do ``action``."""
    if not allows(actor, action):
        from traceapp.orgs.texts import denied  # texts imports this table: import when refusing

        raise PermissionDenied(denied(action))
