"""Configuration test fixtures: test keys registered for the test only, an empty cache each time."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from finfactory.audit.models import AuditRecord
from finfactory.tenancy.context import in_tenant
from finfactory.tenantconfig import config_register, config_unregister
from finfactory.tenantconfig.caching import cache_clear
from finfactory.tenantconfig.models import ConfigValue

CASH_OUT = "testcfg.cash_out_enabled"
MAX_TRANSFERS = "testcfg.max_transfers"
MODE = "testcfg.mode"
RULES = "testcfg.rules"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache_clear()
    yield
    cache_clear()


@pytest.fixture
def keys():
    """Four test keys, one of each kind; unregistered afterwards."""
    config_register(CASH_OUT, kind="bool", default=True, description="Customers may cash out")
    config_register(
        MAX_TRANSFERS, kind="int", default=10, minimum=0, maximum=100, description="Transfers per day and customer"
    )
    config_register(MODE, kind="str", default="live", choices=["live", "maintenance"], description="Operating mode")
    config_register(RULES, kind="json", default={"tiers": [1, 2]}, description="Routing rules")
    yield
    for key in (CASH_OUT, MAX_TRANSFERS, MODE, RULES):
        config_unregister(key)


@pytest.fixture
def in_acme(tenant):
    with in_tenant(tenant):
        yield tenant


@pytest.fixture
def staff(in_acme):
    """staff(username, role) -> a staff user of the tenant in that role group."""

    def make(username: str, role: str | None, **fields):
        user = get_user_model().objects.create_user(username=username, password=None, is_staff=True, **fields)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


def stored() -> dict:
    """The current schema's rows as {key: (value, version)}."""
    return {row.key: (row.value, row.version) for row in ConfigValue.objects.all()}


def config_audit() -> list[tuple]:
    """The current schema's config audit records: (action, target_id, before, after, reason, actor)."""
    return list(
        AuditRecord.objects.filter(target_type="config")
        .order_by("id")
        .values_list("action", "target_id", "before", "after", "reason", "actor")
    )
