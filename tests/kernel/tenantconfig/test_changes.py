import pytest
from django.db import connection

from finfactory.audit.models import AuditRecord
from finfactory.errors import InvalidInput
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_public_schema
from finfactory.tenantconfig import config_set, config_unregister, config_unset

from .conftest import CASH_OUT, MAX_TRANSFERS, MODE, RULES, config_audit, stored


def test_a_tenant_change_is_stored_and_audited_in_the_tenant(keys, in_acme):
    with acting_as("user:olga"):
        first = config_set(key=MAX_TRANSFERS, value=20, reason=" more for acme ")
        second = config_set(key=MAX_TRANSFERS, value=30, reason="even more")

    assert (first.value, first.version, first.scope, first.schema) == (20, 1, "tenant", in_acme.schema_name)
    assert (second.value, second.version, second.reason, second.updated_by) == (30, 2, "even more", "user:olga")
    assert stored() == {MAX_TRANSFERS: (30, 2)}
    assert config_audit() == [
        ("config.value_set", MAX_TRANSFERS, None, {"value": 20, "version": 1}, "more for acme", "user:olga"),
        ("config.value_set", MAX_TRANSFERS, {"value": 20, "version": 1}, {"value": 30, "version": 2}, "even more",
         "user:olga"),
    ]  # fmt: skip
    assert AuditRecord.objects.filter(target_type="config").get(action="config.value_set", after__version=2).tenant == (
        in_acme.schema_name
    )
    with in_public_schema():
        assert (stored(), config_audit()) == ({}, [])


def test_a_global_change_made_from_a_tenant_is_stored_and_audited_in_the_public_schema(keys, in_acme):
    with acting_as("system:ops"):
        entry = config_set(key=RULES, value={"tiers": []}, reason="no tiers", scope="global")

    assert (entry.scope, entry.schema, entry.version) == ("global", "public", 1)
    assert (stored(), config_audit()) == ({}, [])
    with in_public_schema():
        assert stored() == {RULES: ({"tiers": []}, 1)}
        assert config_audit() == [
            ("config.value_set", RULES, None, {"value": {"tiers": []}, "version": 1}, "no tiers", "system:ops")
        ]


def test_unset_deletes_the_row_and_audits_what_it_was(keys, in_acme):
    config_set(key=MODE, value="maintenance", reason="migration")

    with acting_as("user:olga"):
        removed = config_unset(key=MODE, reason="migration done")

    assert (removed.key, removed.value, removed.version) == (MODE, "maintenance", 1)
    assert stored() == {}
    assert config_audit()[-1] == (
        "config.value_unset", MODE, {"value": "maintenance", "version": 1}, None, "migration done", "user:olga"
    )  # fmt: skip


def test_unsetting_what_is_not_set_or_setting_the_same_value_writes_nothing(keys, in_acme):
    config_set(key=CASH_OUT, value=False, reason="pause")

    unchanged = config_set(key=CASH_OUT, value=False, reason="pause again")
    nothing = config_unset(key=MODE, reason="was never set")

    assert (unchanged.version, unchanged.reason) == (1, "pause")
    assert nothing is None
    assert stored() == {CASH_OUT: (False, 1)}
    assert [record[0] for record in config_audit()] == ["config.value_set"]


def test_an_int_stored_as_true_is_a_change_not_the_same_value(keys, in_acme):
    config_set(key=RULES, value=1, reason="one")

    entry = config_set(key=RULES, value=True, reason="true")

    assert entry.version == 2
    assert stored() == {RULES: (True, 2)}


NOT_JSON = "Must be JSON: objects with string keys, arrays, strings, finite numbers, booleans, null."


def _refused(code: str, field: str, **kwargs) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        config_set(**{"reason": "a reason", **kwargs})
    assert (refused.value.code, [error.field for error in refused.value.errors]) == (code, [field])
    return refused.value


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (CASH_OUT, 1, "Must be true or false."),
        (CASH_OUT, "true", "Must be true or false."),
        (MAX_TRANSFERS, True, "Must be an integer."),
        (MAX_TRANSFERS, 5.0, "Must be an integer."),
        (MAX_TRANSFERS, -1, "Must be at least 0."),
        (MAX_TRANSFERS, 101, "Must be at most 100."),
        (MODE, "paused", 'Must be one of "live", "maintenance".'),
        (MODE, None, "A value is required (null is not a value: unset the key instead)."),
        (RULES, {"tiers": (1, 2)}, NOT_JSON),
        (RULES, {"x": float("nan")}, NOT_JSON),
        (RULES, "x" * 70_000, "Must be at most 65536 bytes of JSON."),
    ],
)  # fmt: skip
def test_a_value_the_definition_refuses_names_the_value_and_writes_nothing(keys, db, key, value, message):
    refused = _refused("invalid_config_value", "value", key=key, value=value, scope="global")

    assert refused.errors[0].message == message
    assert (stored(), config_audit()) == ({}, [])


def test_a_refused_tenant_value_writes_nothing_in_the_tenant_either(keys, in_acme):
    _refused("invalid_config_value", "value", key=MAX_TRANSFERS, value=1000)

    assert (stored(), config_audit()) == ({}, [])
    with in_public_schema():
        assert (stored(), config_audit()) == ({}, [])


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"key": "testcfg.nope", "value": True}, "unknown_config_key", "key"),
        ({"key": 42, "value": True}, "unknown_config_key", "key"),
        ({"key": CASH_OUT, "value": True, "reason": "  "}, "reason_required", "reason"),
        ({"key": CASH_OUT, "value": True, "reason": None}, "reason_required", "reason"),
        ({"key": CASH_OUT, "value": True, "scope": "everyone"}, "invalid_config_scope", "scope"),
    ],
)
def test_an_unknown_key_a_missing_reason_or_a_bad_scope_is_refused_and_nothing_written(
    keys, in_acme, kwargs, code, field
):
    _refused(code, field, **kwargs)

    assert (stored(), config_audit()) == ({}, [])
    with in_public_schema():
        assert (stored(), config_audit()) == ({}, [])


def test_a_tenant_value_cannot_be_set_or_unset_outside_a_tenant(keys, db):
    assert connection.schema_name == "public"
    _refused("tenant_required", "scope", key=CASH_OUT, value=False)
    with pytest.raises(InvalidInput) as refused:
        config_unset(key=CASH_OUT, reason="r")

    assert refused.value.code == "tenant_required"
    assert (stored(), config_audit()) == ({}, [])


def test_unset_refuses_an_unknown_key_or_a_missing_reason_and_deletes_nothing(keys, in_acme):
    config_set(key=MODE, value="maintenance", reason="migration")

    with pytest.raises(InvalidInput) as unknown:
        config_unset(key="testcfg.nope", reason="r")
    with pytest.raises(InvalidInput) as no_reason:
        config_unset(key=MODE, reason="")

    assert (unknown.value.code, unknown.value.errors[0].field) == ("unknown_config_key", "key")
    assert (no_reason.value.code, no_reason.value.errors[0].field) == ("reason_required", "reason")
    assert stored() == {MODE: ("maintenance", 1)}
    assert len(config_audit()) == 1


def test_a_value_left_behind_by_a_key_no_longer_registered_can_still_be_unset(keys, in_acme):
    config_set(key=MODE, value="maintenance", reason="migration")
    config_unregister(MODE)

    removed = config_unset(key=MODE, reason="key removed from the code")

    assert removed.value == "maintenance"
    assert stored() == {}
