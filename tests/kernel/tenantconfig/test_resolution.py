import pytest
from django.db import connection

from finfactory.tenancy.context import in_public_schema, in_tenant
from finfactory.tenantconfig import config_get, config_set, config_unset, flag_enabled
from finfactory.tenantconfig.caching import cache_clear
from finfactory.tenantconfig.models import ConfigValue

from .conftest import CASH_OUT, MAX_TRANSFERS, MODE, RULES


def test_with_nothing_stored_every_key_has_its_default(keys, in_acme):
    assert [config_get(key) for key in (CASH_OUT, MAX_TRANSFERS, MODE, RULES)] == [
        True, 10, "live", {"tiers": [1, 2]}
    ]  # fmt: skip
    assert flag_enabled(CASH_OUT) is True


def test_a_global_value_overrides_the_default_and_a_tenant_value_overrides_the_global_one(keys, make_tenant):
    acme, globex = make_tenant("acme").tenant, make_tenant("globex").tenant

    config_set(key=MAX_TRANSFERS, value=20, reason="raise for everyone", scope="global")
    with in_tenant(acme):
        config_set(key=MAX_TRANSFERS, value=50, reason="acme negotiated more")

    with in_tenant(acme):
        assert config_get(MAX_TRANSFERS) == 50
    with in_tenant(globex):
        assert config_get(MAX_TRANSFERS) == 20
    assert config_get(MAX_TRANSFERS) == 20  # the public schema resolves to the global value
    assert config_get(MODE) == "live"  # untouched keys keep their default


def test_unsetting_the_tenant_value_falls_back_to_global_then_to_the_default(keys, in_acme):
    config_set(key=CASH_OUT, value=False, reason="pause globally", scope="global")
    config_set(key=CASH_OUT, value=True, reason="acme exempt")
    assert flag_enabled(CASH_OUT) is True

    config_unset(key=CASH_OUT, reason="exemption over")
    assert flag_enabled(CASH_OUT) is False

    config_unset(key=CASH_OUT, reason="pause over", scope="global")
    assert flag_enabled(CASH_OUT) is True


def test_a_tenant_value_lives_in_the_tenant_schema_and_a_global_one_in_public(keys, in_acme):
    config_set(key=MODE, value="maintenance", reason="acme migrating")
    config_set(key=RULES, value={"tiers": [3]}, reason="new rules", scope="global")

    tenant_rows = list(ConfigValue.objects.values_list("key", "value"))
    with in_public_schema():
        public_rows = list(ConfigValue.objects.values_list("key", "value"))
    assert connection.schema_name == in_acme.schema_name  # set_global came back to the tenant
    assert tenant_rows == [(MODE, "maintenance")]
    assert public_rows == [(RULES, {"tiers": [3]})]


def test_an_unknown_key_is_a_programming_error(keys, in_acme):
    with pytest.raises(LookupError, match=r"'testcfg\.nope' is not registered"):
        config_get("testcfg.nope")
    with pytest.raises(LookupError):
        flag_enabled("testcfg.nope")


def test_flag_enabled_is_for_bool_keys_only(keys, in_acme):
    with pytest.raises(TypeError, match="is a int, not a bool flag"):
        flag_enabled(MAX_TRANSFERS)


def test_a_json_value_is_a_copy_callers_cannot_change_for_others(keys, in_acme):
    config_get(RULES)["tiers"].append(99)
    config_set(key=RULES, value={"tiers": [7]}, reason="r")
    config_get(RULES)["tiers"].append(99)

    assert config_get(RULES) == {"tiers": [7]}


def test_a_stored_value_the_definition_now_refuses_falls_back_to_the_next_layer(keys, in_acme):
    config_set(key=MAX_TRANSFERS, value=30, reason="global", scope="global")
    config_set(key=MAX_TRANSFERS, value=90, reason="tenant")
    # As after a deploy that lowered the maximum under a stored value.
    ConfigValue.objects.filter(key=MAX_TRANSFERS).update(value=500)

    cache_clear()
    assert config_get(MAX_TRANSFERS) == 30
