import io

import pytest
from django.core.management import CommandError, call_command

from finfactory.tenancy.context import in_public_schema, in_tenant
from finfactory.tenantconfig import config_set

from .conftest import CASH_OUT, MAX_TRANSFERS, MODE, RULES, config_audit, stored


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_config_set_for_a_tenant_and_globally(keys, tenant):
    tenant_out = _run("config_set", MAX_TRANSFERS, "33", "--reason", "ops ticket 7", "--tenant", tenant.slug)
    global_out = _run("config_set", RULES, '{"tiers": [5]}', "--reason", "ops ticket 8", "--global")

    assert tenant_out == f"{MAX_TRANSFERS} = 33 for tenant {tenant.slug} (version 1)\n"
    assert global_out == f'{RULES} = {{"tiers": [5]}} globally (version 1)\n'
    with in_tenant(tenant):
        assert stored() == {MAX_TRANSFERS: (33, 1)}
        assert config_audit() == [
            ("config.value_set", MAX_TRANSFERS, None, {"value": 33, "version": 1}, "ops ticket 7", "system:manage.py")
        ]
    with in_public_schema():
        assert stored() == {RULES: ({"tiers": [5]}, 1)}


def test_config_unset(keys, tenant):
    with in_tenant(tenant):
        config_set(key=MODE, value="maintenance", reason="migration")

    removed = _run("config_unset", MODE, "--reason", "done", "--tenant", tenant.slug)
    again = _run("config_unset", MODE, "--reason", "done", "--tenant", tenant.slug)

    assert removed == f'{MODE} unset for tenant {tenant.slug} (was "maintenance", version 1)\n'
    assert again == f"{MODE} was not set for tenant {tenant.slug}: nothing to do\n"
    with in_tenant(tenant):
        assert stored() == {}
        assert [record[0] for record in config_audit()] == ["config.value_set", "config.value_unset"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((MODE, "maintenance", "--reason", "r", "--global"), "VALUE_JSON is not valid JSON"),
        ((MODE, '"paused"', "--reason", "r", "--global"),
         'refused (invalid_config_value): value: Must be one of "live", "maintenance".'),
        (("testcfg.nope", "1", "--reason", "r", "--global"),
         "refused (unknown_config_key): key: Not a registered configuration key."),
        ((MODE, '"live"', "--reason", " ", "--global"), "refused (reason_required): reason: A reason is required."),
        ((MODE, '"live"', "--reason", "r", "--tenant", "nope"), "no tenant 'nope'"),
    ],
)  # fmt: skip
def test_config_set_refusals_write_nothing(keys, db, args, message):
    with pytest.raises(CommandError) as refused:
        _run("config_set", *args)

    assert message in str(refused.value)
    assert (stored(), config_audit()) == ({}, [])


def test_config_set_needs_exactly_one_of_tenant_or_global(keys, db):
    with pytest.raises(CommandError, match="one of the arguments --tenant --global is required"):
        _run("config_set", MODE, '"live"', "--reason", "r")
    with pytest.raises(CommandError, match="not allowed with argument"):
        _run("config_set", MODE, '"live"', "--reason", "r", "--global", "--tenant", "acme")


def test_config_list_shows_defaults_global_and_tenant_values_and_what_resolves(keys, tenant):
    config_set(key=MAX_TRANSFERS, value=20, reason="r", scope="global")
    config_set(key=CASH_OUT, value=False, reason="r", scope="global")
    with in_tenant(tenant):
        config_set(key=MAX_TRANSFERS, value=50, reason="r")
        config_set(key=MODE, value="maintenance", reason="r")

    for_tenant = _run("config_list", "--tenant", tenant.slug)
    platform = _run("config_list")

    ours = [line for line in for_tenant.splitlines() if line.startswith(("KEY", "testcfg."))]
    assert [line.split() for line in ours] == [
        ["KEY", "KIND", "DEFAULT", "GLOBAL", "TENANT", "RESOLVED"],
        [CASH_OUT, "bool", "true", "false", "-", "false"],
        [MAX_TRANSFERS, "int", "10", "20", "50", "50"],
        [MODE, "str", '"live"', "-", '"maintenance"', '"maintenance"'],
        [RULES, "json", '{"tiers":', "[1,", "2]}", "-", "-", '{"tiers":', "[1,", "2]}"],
    ]
    ours = [line for line in platform.splitlines() if line.startswith(("KEY", "testcfg."))]
    assert [line.split() for line in ours] == [
        ["KEY", "KIND", "DEFAULT", "GLOBAL", "RESOLVED"],
        [CASH_OUT, "bool", "true", "false", "false"],
        [MAX_TRANSFERS, "int", "10", "20", "20"],
        [MODE, "str", '"live"', "-", '"live"'],
        [RULES, "json", '{"tiers":', "[1,", "2]}", "-", '{"tiers":', "[1,", "2]}"],
    ]


def test_config_list_refuses_an_unknown_tenant(keys, db):
    with pytest.raises(CommandError, match="no tenant 'nope'"):
        _run("config_list", "--tenant", "nope")
