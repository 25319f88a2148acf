"""What people read about organisations and permissions: kind names, actions, refusals."""

from __future__ import annotations

from babel.lists import format_list
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from traceapp.orgs import audit
from traceapp.orgs.models import OrgKind, Role
from traceapp.orgs.permissions import TABLE, Action
from traceapp.orgs.scopes import Scope

#: Kinds of organisation, plural (as in "only producers and markets ...").
KINDS_PLURAL = {
    OrgKind.PRODUCER: _l("producers"),
    OrgKind.MARKET: _l("markets"),
    OrgKind.CARRIER: _l("carriers"),
    OrgKind.PROCESSOR: _l("processors"),
    OrgKind.RETAILER: _l("retailers"),
    OrgKind.REGULATOR: _l("regulators"),
}

#: What each action is, as it completes "Only producers may ...".
ACTION_PHRASES = {
    Action.ISSUE: _l("issue certificates"),
    Action.UPLOAD_REPORT: _l("upload test reports"),
    Action.REVOKE: _l("revoke certificates"),
    Action.REVOKE_COLLEAGUES: _l("revoke certificates another user issued"),
    Action.SHIP: _l("ship batches"),
    Action.RECEIVE: _l("receive batches"),
    Action.STORE: _l("record storage"),
    Action.TRANSPORT: _l("record transport"),
    Action.INSPECT: _l("record gate checks"),
    Action.TRANSFORM: _l("transform batches"),
    Action.PORTION: _l("portion batches"),
    Action.SELL: _l("record retail sales"),
    Action.DESTROY: _l("record destruction"),
    Action.AGGREGATE: _l("pack cases onto pallets"),
    Action.CORRECT: _l("correct events"),
    Action.RECALL: _l("open recalls"),
    Action.RECALL_ANY: _l("recall batches another organisation issued"),
    Action.ACKNOWLEDGE_RECALL: _l("acknowledge recalls"),
    Action.CLOSE_RECALL: _l("close recalls"),
    Action.CLOSE_ANY_RECALL: _l("close recalls another organisation opened"),
    Action.EXPORT_RECALL: _l("export recalls"),
    Action.SEE_ALL_RECALLS: _l("see every recall"),
    Action.SEE_OVERVIEW: _l("see the overview"),
    Action.TRACE_FULL: _l("trace beyond one step"),
    Action.MANAGE_TOKENS: _l("manage API tokens"),
    Action.SEE_AUDIT_LOG: _l("read the audit log"),
    Action.SEE_ALL_AUDIT_LOGS: _l("read every organisation's audit log"),
    Action.HAND_OVER: _l("hand batches over at a gate"),
    Action.PURCHASE: _l("record purchases"),
    Action.SEE_ALL_PURCHASES: _l("read every buyer's purchases"),
    Action.DISPUTE: _l("dispute gate checks"),
    Action.RESOLVE_DISPUTE: _l("resolve disputes"),
    Action.MANAGE_MEMBERS: _l("add members and reset their passwords"),
    Action.MANAGE_SETTINGS: _l("change the organisation's settings"),
    Action.READ_NOTIFICATIONS: _l("read notifications"),
    Action.MANAGE_NOTIFICATIONS: _l("set where notifications go"),
    Action.CAPTURE_EPCIS: _l("capture EPCIS events"),
    Action.QUERY_EPCIS: _l("query EPCIS events"),
    Action.SEE_ALL_EPCIS: _l("see every organisation's EPCIS events"),
}


def denied(action: Action) -> str:
    """Why the table refuses ``action``, naming who may do it (so it never says otherwise)."""
    who = TABLE[action]
    if who.roles != frozenset(Role):
        return _("Only an administrator of the organisation may %(action)s.", action=ACTION_PHRASES[action])
    kinds = [str(KINDS_PLURAL[k]) for k in OrgKind if k in who.kinds]
    return _(
        "Only %(kinds)s may %(action)s.",
        kinds=format_list(kinds, locale=get_locale() or "en"),
        action=ACTION_PHRASES[action],
    )


#: What each token scope lets a token do (the token page's check boxes).
SCOPE_LABELS = {
    Scope.READ: _l("read: certificates, codes, events, trace, recalls, exports"),
    Scope.EVENTS: _l("events: record hops, gate checks, processing"),
    Scope.CERTIFICATES: _l("certificates: issue and revoke, upload lab reports"),
    Scope.RECALL: _l("recall: open, acknowledge and close recalls"),
}

TOKEN_STATUSES = {"active": _l("Active"), "expired": _l("Expired"), "revoked": _l("Revoked")}

#: The audit log's actions as a person reads them.
AUDIT_ACTIONS = {
    audit.SIGN_IN: _l("Signed in"),
    audit.SIGN_IN_FAILED: _l("Failed sign-in"),
    audit.SIGN_OUT: _l("Signed out"),
    audit.PASSWORD_CHANGED: _l("Password changed"),
    audit.TOKEN_CREATED: _l("API token created"),
    audit.TOKEN_USED: _l("API token used"),
    audit.TOKEN_REVOKED: _l("API token revoked"),
    audit.CERTIFICATE_REVOKED: _l("Certificate revoked"),
    audit.RECALL_OPENED: _l("Recall opened"),
    audit.RECALL_ACKNOWLEDGED: _l("Recall acknowledged"),
    audit.RECALL_CLOSED: _l("Recall closed"),
    audit.ROLE_CHANGED: _l("Role changed"),
    audit.DISPUTE_OPENED: _l("Dispute opened"),
    audit.DISPUTE_RESOLVED: _l("Dispute resolved"),
    audit.MEMBER_ADDED: _l("Member added"),
    audit.PASSWORD_RESET: _l("Password reset"),
    audit.SETTINGS_CHANGED: _l("Settings changed"),
    audit.CONTACTS_CHANGED: _l("Notification addresses changed"),
    audit.OPERATOR_CHANGED: _l("Operator identity changed"),
    audit.SEAL_CHANGED: _l("Seal or signature image changed"),
}

#: A user's role as a person reads it.
ROLE_LABELS = {Role.ADMIN: _l("Administrator"), Role.MEMBER: _l("Member")}


def expiry_label(days: int) -> str:
    """A choice of the token form's expiry."""
    return _("Never expires") if days == 0 else _("In %(days)d days", days=days)
