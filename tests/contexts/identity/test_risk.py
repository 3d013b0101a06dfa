"""Watchlist screening, risk flags that hold verification, and their maker-checker clearance."""

import pytest

from contexts.identity import api, kyc
from contexts.identity.adapters.base import Decision
from contexts.identity.clearance import CLEAR_ACTION, risk_flag_clearance_request
from contexts.identity.models import KycSubmission, RiskFlag, WatchlistEntry
from contexts.identity.risk import watchlist_entry_save
from contexts.identity.screening import normalize_name
from finfactory.backoffice.approvals import registered_actions
from finfactory.backoffice.services import approval_approve, approval_reject
from finfactory.errors import Conflict, Forbidden, InvalidInput

from .conftest import audit_trail, events, id_number, written


@pytest.fixture
def maker(staff):
    return staff("maker", "Operator")


@pytest.fixture
def checker(staff):
    return staff("checker", "Approver")


def verify_by_provider(status):
    return kyc.kyc_decision_apply(
        provider="sandbox", decision=Decision(submission_id=status.submission_id, outcome="verified")
    )


def flags_of(customer_id: str) -> list[tuple[str, int]]:
    return list(
        RiskFlag.objects.filter(customer__public_id=customer_id)
        .order_by("id")
        .values_list("status", "watchlist_entry__list_name")
    )


def test_names_are_compared_without_accents_case_punctuation_or_extra_spaces():
    assert normalize_name("  José  DE-LA Cruz ") == "jose de la cruz"
    assert normalize_name("MÜLLER, Zoë") == "muller zoe"


@pytest.mark.parametrize(
    ("listed", "first_name", "last_name"),
    [
        ("Osama bin Laden", "Usama", "bin Ladin"),  # transliteration
        ("José Dela Cruz", "JOSE", "de la cruz"),  # accents, case, spacing
        ("Doe John", "John", "Doe"),  # word order
        ("Juan Miguel Santos Reyes", "Juan", "Santos Reyes"),  # a name left out
        ("Zoë Müller", "Zoe", "Muller"),
    ],
)
def test_a_close_name_is_flagged_and_announced(customer, watchlist, listed, first_name, last_name):
    entry = watchlist(listed)

    created = customer(first_name=first_name, last_name=last_name)

    flag = RiskFlag.objects.get(customer__public_id=created.id)
    assert (flag.status, flag.watchlist_entry_id) == ("open", entry.pk)
    assert flag.score >= 85
    assert [type_ for type_, _, _ in events()] == ["customer.created", "risk.flagged"]
    assert events("risk.")[0] == (
        "risk.flagged",
        created.id,
        {"customer_id": created.id, "flag_id": flag.public_id, "source": "watchlist",
         "watchlist_entry_id": entry.public_id, "score": flag.score},
    )  # fmt: skip
    assert [(a, target, after) for a, _, target, _, after in audit_trail("risk.")] == [
        ("risk.flagged", flag.public_id,
         {"status": "open", "customer_id": created.id, "watchlist_entry_id": entry.public_id, "score": flag.score}),
    ]  # fmt: skip


@pytest.mark.parametrize(("first_name", "last_name"), [("Jane", "Smith"), ("Kim", "Jong Il"), ("Usman", "Ladin")])
def test_a_different_name_is_not_flagged(customer, watchlist, first_name, last_name):
    watchlist("John Smith")
    watchlist("Kim Jong Un")
    watchlist("Osama bin Laden")

    created = customer(first_name=first_name, last_name=last_name)

    assert flags_of(created.id) == []
    assert events("risk.") == []


def test_an_inactive_entry_is_not_screened(customer, watchlist):
    watchlist("Maria Makiling", active=False)

    created = customer(first_name="Maria", last_name="Makiling")

    assert flags_of(created.id) == []


def test_an_open_flag_holds_a_verification_until_it_is_cleared_by_a_second_person(customer, watchlist, maker, checker):
    watchlist("Maria Makiling", list_name="internal")
    created = customer(first_name="Maria", last_name="Makiling")
    status = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())
    assert status.blocked_by_risk is True

    held = verify_by_provider(status)

    assert (held.status, held.level, held.blocked_by_risk) == ("pending", "none", True)
    assert KycSubmission.objects.get(public_id=status.submission_id).status == "held"
    assert events("kyc.verified") == []
    assert audit_trail("kyc.verification_held")[0][4]["reason"] == "open_risk_flag"
    flag = RiskFlag.objects.get(customer__public_id=created.id)

    approval = risk_flag_clearance_request(flag_id=flag.public_id, requested_by=maker, reason="Different birth date")

    assert approval.action == CLEAR_ACTION and approval.payload == {"flag_id": flag.public_id}
    assert flags_of(created.id) == [("open", "internal")]
    assert api.kyc_status(customer_id=created.id).status == "pending"
    with pytest.raises(Forbidden) as own:
        approval_approve(approval_id=approval.public_id, approver=maker)
    assert own.value.code == "approver_required"

    decided = approval_approve(approval_id=approval.public_id, approver=checker)

    assert decided.status == "executed"
    assert decided.result == {"flag_id": flag.public_id, "customer_id": created.id, "kyc_verified": True}
    assert flags_of(created.id) == [("cleared", "internal")]
    flag.refresh_from_db()
    assert (flag.cleared_by, flag.clearance_approval_id) == ("user:checker", approval.public_id)
    after = api.kyc_status(customer_id=created.id)
    assert (after.status, after.level, after.blocked_by_risk) == ("verified", "full", False)
    (verified,) = events("kyc.verified")
    assert (verified[2]["customer_id"], verified[2]["level"]) == (created.id, "full")
    assert [(a, actor) for a, actor, *_ in audit_trail("risk.")] == [
        ("risk.flagged", "system:test"),
        ("risk.clearance_requested", "user:maker"),
        ("risk.cleared", "user:checker"),
    ]
    assert audit_trail("kyc.verified")[0][1] == "user:checker"


def test_the_requester_cannot_approve_their_own_clearance(customer, watchlist, staff):
    approver_maker = staff("both", "Approver")
    watchlist("Maria Makiling")
    flag = RiskFlag.objects.get(customer__public_id=customer(first_name="Maria", last_name="Makiling").id)
    approval = risk_flag_clearance_request(flag_id=flag.public_id, requested_by=approver_maker, reason="same person")

    with pytest.raises(Forbidden) as refused:
        approval_approve(approval_id=approval.public_id, approver=approver_maker)

    assert refused.value.code == "self_approval_forbidden"
    assert flags_of(flag.customer.public_id)[0][0] == "open"


def test_a_rejected_clearance_leaves_the_flag_open_and_a_new_request_can_follow(customer, watchlist, maker, checker):
    watchlist("Maria Makiling")
    created = customer(first_name="Maria", last_name="Makiling")
    flag = RiskFlag.objects.get(customer__public_id=created.id)
    first = risk_flag_clearance_request(flag_id=flag.public_id, requested_by=maker, reason="looks different")

    approval_reject(approval_id=first.public_id, approver=checker, reason="Not enough evidence")
    second = risk_flag_clearance_request(flag_id=flag.public_id, requested_by=maker, reason="ID photo attached")

    assert flags_of(created.id) == [("open", "OFAC SDN")]
    assert second.public_id != first.public_id
    flag.refresh_from_db()
    assert flag.clearance_approval_id == second.public_id


def test_a_second_request_while_one_is_pending_is_refused_and_writes_nothing(customer, watchlist, maker):
    watchlist("Maria Makiling")
    flag = RiskFlag.objects.get(customer__public_id=customer(first_name="Maria", last_name="Makiling").id)
    risk_flag_clearance_request(flag_id=flag.public_id, requested_by=maker, reason="false positive")
    before = written()

    with pytest.raises(Conflict) as refused:
        risk_flag_clearance_request(flag_id=flag.public_id, requested_by=maker, reason="again")

    assert refused.value.code == "clearance_already_requested"
    assert written() == before


def test_a_clearance_without_a_reason_is_refused_and_writes_nothing(customer, watchlist, maker):
    watchlist("Maria Makiling")
    flag = RiskFlag.objects.get(customer__public_id=customer(first_name="Maria", last_name="Makiling").id)
    before = written()

    with pytest.raises(InvalidInput) as refused:
        risk_flag_clearance_request(flag_id=flag.public_id, requested_by=maker, reason="  ")

    assert refused.value.code == "reason_required"
    assert written() == before


def test_a_cleared_flag_cannot_be_cleared_again_and_the_second_approval_fails_cleanly(
    customer, watchlist, maker, checker, staff
):
    watchlist("Maria Makiling")
    flag = RiskFlag.objects.get(customer__public_id=customer(first_name="Maria", last_name="Makiling").id)
    first = risk_flag_clearance_request(flag_id=flag.public_id, requested_by=maker, reason="false positive")
    approval_reject(approval_id=first.public_id, approver=checker, reason="wait")
    second = risk_flag_clearance_request(flag_id=flag.public_id, requested_by=maker, reason="false positive")
    approval_approve(approval_id=second.public_id, approver=checker)

    with pytest.raises(Conflict) as refused:
        risk_flag_clearance_request(flag_id=flag.public_id, requested_by=maker, reason="once more")

    assert refused.value.code == "risk_flag_not_open"


def test_every_open_flag_must_be_cleared_before_the_held_verification_completes(customer, watchlist, maker, checker):
    watchlist("Maria Makiling", list_name="internal")
    watchlist("Mariya Makiling", list_name="PEP")
    created = customer(first_name="Maria", last_name="Makiling")
    verify_by_provider(api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number()))
    first, second = RiskFlag.objects.filter(customer__public_id=created.id).order_by("id")

    approval_approve(
        approval_id=risk_flag_clearance_request(flag_id=first.public_id, requested_by=maker, reason="fp").public_id,
        approver=checker,
    )
    assert api.kyc_status(customer_id=created.id).status == "pending"
    approval_approve(
        approval_id=risk_flag_clearance_request(flag_id=second.public_id, requested_by=maker, reason="fp").public_id,
        approver=checker,
    )

    assert api.kyc_status(customer_id=created.id).status == "verified"
    assert len(events("kyc.verified")) == 1


def test_a_rejection_is_not_held_by_a_flag(customer, watchlist):
    watchlist("Maria Makiling")
    created = customer(first_name="Maria", last_name="Makiling")
    status = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())

    rejected = kyc.kyc_decision_apply(
        provider="sandbox",
        decision=Decision(submission_id=status.submission_id, outcome="rejected", reason="document_rejected"),
    )

    assert rejected.status == "rejected"


def test_a_cleared_entry_does_not_flag_the_same_customer_again(customer, watchlist, maker, checker):
    watchlist("Maria Makiling")
    created = customer(first_name="Maria", last_name="Makiling")
    flag = RiskFlag.objects.get(customer__public_id=created.id)
    approval_approve(
        approval_id=risk_flag_clearance_request(flag_id=flag.public_id, requested_by=maker, reason="fp").public_id,
        approver=checker,
    )

    status = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())
    verified = verify_by_provider(status)

    assert verified.status == "verified"
    assert flags_of(created.id) == [("cleared", "OFAC SDN")]
    assert len(events("risk.flagged")) == 1


def test_an_entry_added_after_the_customer_flags_them_at_submission(customer, watchlist):
    created = customer(first_name="Maria", last_name="Makiling")
    watchlist("Maria Makiling")

    status = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())

    assert status.blocked_by_risk is True
    assert [type_ for type_, _, _ in events() if type_ != "customer.created"] == ["kyc.started", "risk.flagged"]


def test_watchlist_changes_are_audited_by_field_name_never_by_value(identity):
    entry = watchlist_entry_save(
        entry=WatchlistEntry(), full_name="Maria Makiling", list_name="internal", note="", active=True,
        actor="user:compliance",
    )  # fmt: skip

    watchlist_entry_save(
        entry=entry, full_name="Maria S. Makiling", list_name="internal", note="alias", active=False,
        actor="user:compliance",
    )  # fmt: skip

    entry.refresh_from_db()
    assert (entry.normalized_name, entry.active) == ("maria s makiling", False)
    assert [(a, actor, before, after) for a, actor, _, before, after in audit_trail("watchlist.")] == [
        ("watchlist.entry_created", "user:compliance", None,
         {"active": True, "list_name": "internal", "changed_fields": ["full_name", "list_name", "note", "active"]}),
        ("watchlist.entry_changed", "user:compliance", {"active": True, "list_name": "internal"},
         {"active": False, "list_name": "internal", "changed_fields": ["full_name", "note", "active"]}),
    ]  # fmt: skip


def test_the_clearance_action_is_registered_with_the_back_office():
    assert CLEAR_ACTION in registered_actions()
