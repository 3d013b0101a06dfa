"""Fraud in the back office: rules edited as new versions, the block list, settings, models."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from contexts.fraud import services
from contexts.fraud.models import BlockListEntry, FraudSettings, Rule
from finfactory.audit.models import AuditRecord
from finfactory.tenancy.models import Domain

from .conftest import writes


@pytest.fixture
def host(tenant_row):
    domain = f"{tenant_row.schema_name.replace('_', '-')}.admin.localhost"
    Domain.objects.get_or_create(domain=domain, tenant=tenant_row, defaults={"is_primary": True})
    return domain


@pytest.fixture
def operator(fraud, client):
    user = get_user_model().objects.create_user(username="ops", password=None, is_staff=True)
    user.groups.add(Group.objects.get(name="Operator"))
    client.force_login(user)
    return client


RULE_FORM = {
    "code": "big-cash-out",
    "name": "Big cash-outs",
    "kind": "amount_threshold",
    "params": json.dumps({"currency": "PHP", "min_amount": 1_000_000, "movement_types": ["cash_out"]}),
    "action": "review",
    "weight": "150",
    "enabled": "on",
    "effective_from_0": "",
    "effective_from_1": "",
    "reason": "Cash-out fraud wave",
}


def test_an_operator_adds_a_rule_and_saving_it_again_makes_the_next_version(operator, host):
    added = operator.post("/admin/fraud/rule/add/", RULE_FORM, HTTP_HOST=host)

    assert added.status_code == 302, added.content[:2000]
    first = Rule.objects.get(code="big-cash-out")
    assert (first.version, first.created_by, first.params["min_amount"]) == (1, "user:ops", 1_000_000)

    changed = operator.post(
        f"/admin/fraud/rule/{first.pk}/change/",
        {**RULE_FORM, "params": json.dumps({"currency": "PHP", "min_amount": 2_000_000}), "weight": "300",
         "reason": "Too many false positives"},
        HTTP_HOST=host,
    )  # fmt: skip

    assert changed.status_code == 302, changed.content[:2000]
    versions = list(Rule.objects.filter(code="big-cash-out").order_by("version"))
    assert [(r.version, r.weight, r.params["min_amount"]) for r in versions] == [
        (1, 150, 1_000_000),
        (2, 300, 2_000_000),
    ]
    assert versions[0].effective_to == versions[1].effective_from
    assert list(
        AuditRecord.objects.filter(target_type="fraud_rule", target_id="big-cash-out").values_list("reason", "actor")
    ) == [("Cash-out fraud wave", "user:ops"), ("Too many false positives", "user:ops")]
    # The superseded version is history: it can be looked at, not changed.
    old = operator.get(f"/admin/fraud/rule/{versions[0].pk}/change/", HTTP_HOST=host)
    assert old.status_code == 200 and b'name="reason"' not in old.content


def test_a_rule_form_with_bad_parameters_shows_the_error_and_writes_nothing(operator, host):
    before = writes()

    response = operator.post(
        "/admin/fraud/rule/add/",
        {**RULE_FORM, "kind": "velocity", "params": json.dumps({"scope": "planet", "window_seconds": 60})},
        HTTP_HOST=host,
    )

    assert response.status_code == 200
    assert b"One of: customer, wallet, counterparty." in response.content
    assert writes() == before


def test_the_block_list_is_edited_with_reasons_and_audited(operator, host):
    added = operator.post(
        "/admin/fraud/blocklistentry/add/",
        {"kind": "ip", "value": "198.51.100.0/24", "reason": "Proxy network", "expires_at_0": "", "expires_at_1": ""},
        HTTP_HOST=host,
    )
    entry = BlockListEntry.objects.get(value="198.51.100.0/24")
    action = {"action": "remove_entries", "_selected_action": [entry.pk]}
    asking = operator.post("/admin/fraud/blocklistentry/", action, HTTP_HOST=host)
    removed = operator.post("/admin/fraud/blocklistentry/", {**action, "apply": "1", "reason": "ISP fixed it"},
                            HTTP_HOST=host)  # fmt: skip

    assert added.status_code == 302 and asking.status_code == 200 and removed.status_code == 302
    entry.refresh_from_db()
    assert (entry.created_by, entry.removed_by, entry.removed_at is not None) == ("user:ops", "user:ops", True)
    assert list(
        AuditRecord.objects.filter(target_id=entry.public_id).order_by("id").values_list("action", "reason")
    ) == [("fraud.block_entry_added", "Proxy network"), ("fraud.block_entry_removed", "ISP fixed it")]


def test_settings_are_changed_with_a_reason_and_bad_values_are_refused(operator, host):
    page = operator.get("/admin/fraud/fraudsettings/", HTTP_HOST=host)
    form = {"review_threshold": "500", "decline_threshold": "800", "dual_control_amounts": '{"PHP": 5000000}',
            "reason": "Tighter review"}  # fmt: skip

    saved = operator.post("/admin/fraud/fraudsettings/1/change/", form, HTTP_HOST=host)
    refused = operator.post("/admin/fraud/fraudsettings/1/change/", {**form, "review_threshold": "950"},
                            HTTP_HOST=host)  # fmt: skip

    assert page.status_code == 200 and saved.status_code == 302
    assert refused.status_code == 200 and b"review_below_decline" in refused.content
    row = FraudSettings.objects.get()
    assert (row.review_threshold, row.decline_threshold, row.dual_control_amounts, row.version) == (
        500, 800, {"PHP": 5_000_000}, 2
    )  # fmt: skip
    assert AuditRecord.objects.filter(action="fraud.settings_changed").count() == 1


def test_settings_refuse_review_above_decline_and_unknown_currencies(fraud):
    before = writes()
    for kwargs, field in [
        ({"review_threshold": 950, "decline_threshold": 900, "dual_control_amounts": {}}, "review_threshold"),
        ({"review_threshold": 1, "decline_threshold": 1001, "dual_control_amounts": {}}, "decline_threshold"),
        ({"review_threshold": 1, "decline_threshold": 2, "dual_control_amounts": {"ZZZ": 5}}, "dual_control_amounts"),
        ({"review_threshold": 1, "decline_threshold": 2, "dual_control_amounts": {"PHP": 0}},
         "dual_control_amounts.PHP"),
    ]:  # fmt: skip
        with pytest.raises(Exception) as refused:
            services.settings_update(**kwargs, reason="x")
        assert refused.value.errors[0].field == field
    assert writes() == before
