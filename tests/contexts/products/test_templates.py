"""Product templates (contexts/products/templates/*.yaml) and the tenant's product configuration:
loading, first use, fees, overrides, locked template rules, upgrades, the products_config command."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from contexts.products import catalog
from contexts.products.configuration import (
    Fee,
    ProductConfigDTO,
    product_config,
    product_config_override,
    product_template_upgrade,
)
from contexts.products.models import ProductConfig
from contexts.wallets import api as wallets_api
from contexts.wallets.tier_defaults import STORED_VALUE_WALLET
from finfactory.audit.models import AuditRecord
from finfactory.errors import BusinessRuleViolation, InvalidInput
from finfactory.ids import new_id
from finfactory.request_context import acting_as
from finfactory.tenancy import context as tenancy
from tests.factories import provision_tenant

HEALTH_MCCS = {
    "8011", "8021", "8031", "8041", "8042", "8043", "8049", "8050", "8062", "8071", "8099",
    "5912", "5122", "5047", "4119",
}  # fmt: skip


@pytest.fixture(scope="module")
def module_tenant(django_db_setup, django_db_blocker):
    """One stored_value_wallet tenant for the module, provisioned in a transaction rolled back at
    the end; each test runs in a savepoint of it, so its product configuration is loaded afresh
    by every test that uses it."""
    with django_db_blocker.unblock(), transaction.atomic():
        tenant = provision_tenant("prd").tenant
        connection.set_schema_to_public()
        yield tenant
        connection.set_schema_to_public()
        transaction.set_rollback(True)


@pytest.fixture
def in_tenant(db, module_tenant):
    """The test runs inside the module tenant's schema, as a CLI operator."""
    with tenancy.in_tenant(module_tenant), acting_as("system:test", request_id="req_products_test"):
        yield module_tenant
    connection.set_schema_to_public()


@pytest.fixture
def tenant_with(make_tenant):
    """tenant_with(template) provisions another tenant (rolled back with the test) and runs the
    rest of the test in its schema."""
    entered = []

    def enter(template: str):
        tenant = make_tenant(template.split("_")[0][:6], template=template).tenant
        context = tenancy.in_tenant(tenant)
        context.__enter__()
        entered.append(context)
        return tenant

    with acting_as("system:test", request_id="req_products_test"):
        yield enter
    for context in reversed(entered):
        context.__exit__(None, None, None)
    connection.set_schema_to_public()


def row() -> dict:
    """The ProductConfig row as values, to compare before and after a refusal."""
    return ProductConfig.objects.values(
        "template", "template_version", "base", "overrides", "effective", "version", "updated_at"
    ).get(pk=1)


def audits(action: str | None = None) -> int:
    records = AuditRecord.objects.all()
    return (records.filter(action=action) if action else records).count()


# --- Templates ---------------------------------------------------------------------------------


def test_every_configured_template_has_a_valid_file_and_every_file_is_configured():
    assert set(catalog.template_names()) == set(settings.PRODUCT_TEMPLATES)
    for name in settings.PRODUCT_TEMPLATES:
        template = catalog.template_load(name)
        assert template["name"] == name
        assert template["version"] >= 1
        assert catalog.config_errors(template) == []


def test_stored_value_wallet_tiers_are_exactly_the_wallets_defaults():
    template = catalog.template_load("stored_value_wallet")

    assert catalog.tier_schedule(template["tiers"]) == STORED_VALUE_WALLET


def test_the_templates_enforce_what_their_products_are():
    stored = catalog.template_load("stored_value_wallet")
    closed = catalog.template_load("closed_loop_wallet")
    health = catalog.template_load("healthcare_benefits_wallet")
    sharia = catalog.template_load("sharia_wallet")

    assert stored["features"] == {
        "cash_in": True, "cash_out": True, "transfers": True, "qr_payments": True, "qr_off_us": True,
        "overdraft": False, "interest": False,
    }  # fmt: skip
    assert stored["fees"]["cash_out"] == {"PHP": {"flat": 1500, "percent_bps": 0, "min": 0, "max": None}}
    assert (closed["payees"]["scope"], closed["features"]["cash_out"], closed["features"]["qr_off_us"]) == (
        "own_merchants", False, False,
    )  # fmt: skip
    assert closed["features"]["transfers"] is True
    assert set(closed["locked"]) == {"features.cash_out", "features.qr_off_us", "payees.scope"}
    assert set(health["payees"]["allowed_mccs"]) == HEALTH_MCCS
    assert (health["features"]["cash_out"], health["features"]["qr_off_us"]) == (False, True)
    assert (sharia["features"]["overdraft"], sharia["features"]["interest"]) == (False, False)
    assert {"features.overdraft", "features.interest"} <= set(sharia["locked"])
    assert "7995" in sharia["payees"]["blocked_mccs"]


def test_a_template_is_checked_and_each_error_names_its_field():
    template = catalog.template_load("stored_value_wallet")
    template["fees"]["cash_out"]["PHP"]["flat"] = 1500.0  # a float, however round
    template["features"]["teleport"] = True
    template["payees"]["allowed_mccs"] = ["59"]
    del template["kyc"]["transfer"]

    errors = {(error.field, error.code) for error in catalog.config_errors(template)}

    assert errors == {
        ("fees.cash_out.PHP.flat", "invalid_type"),
        ("features.teleport", "unknown_field"),
        ("payees.allowed_mccs[0]", "invalid_format"),
        ("kyc.transfer", "required"),
    }


def test_the_rules_across_fields_are_checked():
    template = catalog.template_load("stored_value_wallet")
    template["tiers"]["tiers"] = [tier for tier in template["tiers"]["tiers"] if tier["kyc_level"] != "full"]
    template["tiers"]["tiers"][0]["flows"]["cash_out"]["daily_amount"] = 600_000  # > monthly 500 000
    del template["fees"]["transfer"]["PHP"]
    template["features"]["qr_payments"] = False
    template["routing"]["payout"] = None

    errors = {(error.field, error.code) for error in catalog.config_errors(template)}

    assert errors == {
        ("tiers.tiers", "incomplete_schedule"),
        ("tiers.tiers[0].flows.cash_out.daily_amount", "inconsistent_limits"),
        ("fees.transfer.PHP", "required"),
        ("features.qr_off_us", "feature_conflict"),
        ("routing.payout", "required"),
    }


def test_a_broken_template_file_is_refused(tmp_path, monkeypatch):
    template = catalog.template_load("stored_value_wallet")
    template["kyc"]["cash_out"] = "platinum"
    (tmp_path / "stored_value_wallet.yaml").write_text(yaml.safe_dump(template))
    (tmp_path / "renamed.yaml").write_text(yaml.safe_dump(catalog.template_load("sharia_wallet")))
    monkeypatch.setattr(catalog, "TEMPLATES_DIR", tmp_path)

    with pytest.raises(catalog.TemplateError, match=r"kyc\.cash_out"):
        catalog.template_load("stored_value_wallet")
    with pytest.raises(catalog.TemplateError, match="name: Must be 'renamed'"):
        catalog.template_load("renamed")
    with pytest.raises(catalog.TemplateError, match="No product template"):
        catalog.template_load("../stored_value_wallet")


# --- Fees --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fee", "amount", "expected"),
    [
        (Fee(flat=1500, percent_bps=0, min=0, max=None), 1_000_000, 1500),
        (Fee(flat=0, percent_bps=50, min=0, max=None), 100, 1),  # 0.5 rounds half up
        (Fee(flat=0, percent_bps=50, min=0, max=None), 299, 1),  # 1.495
        (Fee(flat=0, percent_bps=50, min=0, max=None), 300, 2),  # 1.5
        (Fee(flat=0, percent_bps=125, min=0, max=None), 10_100, 126),  # 126.25
        (Fee(flat=1000, percent_bps=150, min=0, max=None), 100_034, 2501),  # 1000 + 1500.51
        (Fee(flat=0, percent_bps=100, min=500, max=None), 10_000, 500),  # 100, raised to min
        (Fee(flat=1000, percent_bps=200, min=0, max=5000), 1_000_000, 5000),  # 21 000, cut to max
        (Fee(flat=0, percent_bps=1, min=0, max=None), 10**15, 10**11),  # exact, no float
        (Fee(flat=7, percent_bps=10_000, min=0, max=None), 0, 7),
    ],
)
def test_fee_arithmetic_is_exact(fee, amount, expected):
    assert fee.amount_for(amount) == expected


def test_fee_for_reads_the_flow_and_currency_of_the_configuration(in_tenant):
    product_config_override(
        overrides={"fees": {"cash_out": {"PHP": {"flat": 1000, "percent_bps": 150, "min": 2000, "max": 10_000}}}},
        reason="cash-out priced by amount",
    )
    config = product_config()

    assert config.fee_for("cash_out", "PHP", 50_000) == 2000  # 1750, raised to min
    assert config.fee_for("cash_out", "PHP", 100_033) == 2500  # 1000 + 1500.495
    assert config.fee_for("cash_out", "PHP", 100_034) == 2501  # 1000 + 1500.51
    assert config.fee_for("cash_out", "PHP", 1_000_000) == 10_000  # 16 000, cut to max
    assert config.fee_for("transfer", "PHP", 1_000_000) == 0
    with pytest.raises(BusinessRuleViolation) as refused:
        config.fee_for("cash_out", "USD", 10_000)
    assert refused.value.code == "currency_not_supported"
    with pytest.raises(InvalidInput) as invalid:
        config.fee_for("cash_out", "PHP", -1)
    assert invalid.value.errors[0].field == "amount"


# --- First use ---------------------------------------------------------------------------------


def test_first_use_loads_the_template_and_gives_wallets_its_tiers(in_tenant, django_assert_num_queries):
    assert not ProductConfig.objects.exists()

    config = product_config()

    template = catalog.template_load("stored_value_wallet")
    assert isinstance(config, ProductConfigDTO)
    assert (config.template, config.template_version, config.version) == ("stored_value_wallet", 1, 1)
    assert row() | {"updated_at": None} == {
        "template": "stored_value_wallet", "template_version": 1, "base": template, "overrides": {},
        "effective": template, "version": 1, "updated_at": None,
    }  # fmt: skip
    assert config.currencies == ("PHP",)
    assert config.feature("qr_off_us") is True and config.feature("overdraft") is False
    assert dict(config.kyc) == {"cash_in": "none", "cash_out": "basic", "transfer": "none", "qr_payment": "none"}
    assert (config.payees_scope, config.allowed_mccs, config.blocked_mccs) == ("any", None, None)
    assert dict(config.routing) == {"qr_off_us": "sandbox", "payout": "sandbox"}
    assert config.fee_for("cash_out", "PHP", 500_000) == 1500
    assert config.as_dict() == template
    assert config.tier_schedule == STORED_VALUE_WALLET
    assert wallets_api.tiers_get().schedule == STORED_VALUE_WALLET
    assert audits("products.config_loaded") == 1
    # Cached: one small query to know the cache is right, the same DTO back.
    with django_assert_num_queries(1):
        assert product_config() is config


def test_the_configuration_cannot_be_changed_through_the_dto(in_tenant):
    config = product_config()

    with pytest.raises(TypeError):
        config.kyc["cash_out"] = "none"  # type: ignore[index]
    with pytest.raises(TypeError):
        config.tiers["tiers"][0]["flows"]["cash_in"]["max_amount"] = 1  # type: ignore[index]
    assert product_config().kyc["cash_out"] == "basic"


@pytest.mark.parametrize("template", ["closed_loop_wallet", "healthcare_benefits_wallet", "sharia_wallet"])
def test_a_tenant_gets_the_features_and_tiers_of_its_template(tenant_with, template):
    tenant_with(template)

    config = product_config()

    expected = catalog.template_load(template)
    assert (config.template, config.as_dict()) == (template, expected)
    schedule = wallets_api.tiers_get()
    assert (schedule.source, schedule.schedule) == ("custom", catalog.tier_schedule(expected["tiers"]))


def test_a_closed_loop_tenant_pays_its_own_merchants_only(tenant_with):
    tenant_with("closed_loop_wallet")

    config = product_config()

    assert (config.feature("cash_out"), config.feature("qr_off_us"), config.feature("transfers")) == (
        False, False, True,
    )  # fmt: skip
    assert config.payees_scope == "own_merchants"
    assert dict(config.routing) == {"qr_off_us": None, "payout": None}
    assert config.allows_payee(own_merchant=True, mcc="5411") is True
    assert config.allows_payee(own_merchant=False, mcc="5411") is False
    assert config.allows_payee(own_merchant=False, mcc=None) is False
    for tier in config.tier_schedule.tiers:  # the limits refuse a cash-out too
        assert tier.flow("cash_out").daily_count == 0


def test_a_healthcare_tenant_pays_health_merchants_only(tenant_with):
    tenant_with("healthcare_benefits_wallet")

    config = product_config()

    assert set(config.allowed_mccs) == HEALTH_MCCS
    assert config.allows_payee(own_merchant=False, mcc="8062") is True
    assert config.allows_payee(own_merchant=True, mcc="5411") is False
    assert config.allows_payee(own_merchant=False, mcc=None) is False
    assert (config.feature("cash_out"), config.feature("qr_off_us")) == (False, True)
    assert config.kyc_allows("qr_payment", "none") is False
    assert config.kyc_allows("qr_payment", "basic") is True


# --- Overrides ---------------------------------------------------------------------------------


def test_an_override_merges_over_the_template_bumps_the_version_and_is_audited(in_tenant):
    product_config()
    audited = audits()

    config = product_config_override(
        overrides={"fees": {"cash_out": {"PHP": {"flat": 2000}}}, "kyc": {"transfer": "basic"}},
        reason="pricing 2025",
    )

    assert config.version == 2
    assert config.fees["cash_out"]["PHP"] == Fee(flat=2000, percent_bps=0, min=0, max=None)
    assert config.kyc["transfer"] == "basic"
    assert config.fees["cash_in"]["PHP"].flat == 0  # untouched
    stored = ProductConfig.objects.get(pk=1)
    assert stored.overrides == {"fees": {"cash_out": {"PHP": {"flat": 2000}}}, "kyc": {"transfer": "basic"}}
    assert stored.base == catalog.template_load("stored_value_wallet")
    assert stored.effective["fees"]["cash_out"]["PHP"] == {"flat": 2000, "percent_bps": 0, "min": 0, "max": None}
    assert product_config() == config
    assert product_config().version == 2
    assert audits() == audited + 1
    record = AuditRecord.objects.order_by("-id").first()
    assert (record.action, record.target_type, record.target_id, record.reason, record.actor) == (
        "products.config_overridden", "product_config", "1", "pricing 2025", "system:test",
    )  # fmt: skip
    assert record.before == {"overrides": {}, "version": 1}
    assert record.after == {"overrides": stored.overrides, "version": 2}
    assert wallets_api.tiers_get().schedule == STORED_VALUE_WALLET  # tiers untouched


def test_the_same_overrides_again_change_nothing(in_tenant):
    first = product_config_override(overrides={"fees": {"cash_out": {"PHP": {"flat": 2000}}}}, reason="pricing")
    audited = audits()

    again = product_config_override(overrides={"fees": {"cash_out": {"PHP": {"flat": 2000}}}}, reason="pricing")

    assert again.version == first.version == 2
    assert audits() == audited


def test_overrides_replace_the_previous_ones_and_empty_goes_back_to_the_template(in_tenant):
    product_config_override(overrides={"fees": {"cash_out": {"PHP": {"flat": 2000}}}}, reason="pricing")
    product_config_override(overrides={"kyc": {"transfer": "full"}}, reason="stricter transfers")

    config = product_config()
    assert (config.version, config.fees["cash_out"]["PHP"].flat, config.kyc["transfer"]) == (3, 1500, "full")

    config = product_config_override(overrides={}, reason="back to the template")

    assert (config.version, config.as_dict()) == (4, catalog.template_load("stored_value_wallet"))


def test_an_override_of_the_tiers_reaches_wallets_in_the_same_transaction(in_tenant):
    product_config()
    tiers = catalog.template_load("stored_value_wallet")["tiers"]
    tiers["tiers"][1]["flows"]["cash_in"]["daily_count"] = 25
    wallets_version = wallets_api.tiers_get().version

    config = product_config_override(overrides={"tiers": tiers}, reason="more cash-ins for verified customers")

    schedule = wallets_api.tiers_get()
    assert schedule.version == wallets_version + 1
    assert schedule.schedule.tier_for(kyc_level="basic", currency="PHP").flow("cash_in").daily_count == 25
    assert schedule.schedule == config.tier_schedule


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"fees": {"cash_out": {"PHP": {"flat": 15.5}}}}, "overrides.fees.cash_out.PHP.flat", "invalid_type"),
        ({"fees": {"cash_out": {"PHP": {"flat": -1}}}}, "overrides.fees.cash_out.PHP.flat", "invalid"),
        ({"fees": {"cash_out": {"PHP": {"min": 500, "max": 100}}}}, "overrides.fees.cash_out.PHP.max",
         "inconsistent_fee"),
        ({"fees": {"cash_out": {"PHP": None}}}, "overrides.fees.cash_out.PHP", "required"),
        ({"features": None}, "overrides.features", "required"),
        ({"fees": {"cash_out": {"USD": {"flat": 0, "percent_bps": 0, "min": 0, "max": None}}}},
         "overrides.fees.cash_out.USD", "currency_not_offered"),
        ({"features": {"teleport": True}}, "overrides.features.teleport", "unknown_field"),
        ({"features": {"qr_payments": False}}, "overrides.features.qr_off_us", "feature_conflict"),
        ({"features": {"overdraft": True}}, "overrides.features.overdraft", "feature_unavailable"),
        ({"kyc": {"cash_out": "platinum"}}, "overrides.kyc.cash_out", "invalid_choice"),
        ({"payees": {"allowed_mccs": ["59"]}}, "overrides.payees.allowed_mccs[0]", "invalid_format"),
        ({"currencies": ["PHP", "USD"]}, "overrides.fees.cash_in.USD", "required"),
        ({"tiers": {"time_zone": "Mars/Olympus"}}, "overrides.tiers.time_zone", "invalid_time_zone"),
        ({"fees": 5}, "overrides.fees", "invalid_type"),
    ],
)  # fmt: skip
def test_a_bad_override_names_the_field_and_writes_nothing(in_tenant, overrides, field, code):
    product_config()
    before, audited, schedule = row(), audits(), wallets_api.tiers_get()

    with pytest.raises(InvalidInput) as refused:
        product_config_override(overrides=overrides, reason="try")

    assert (refused.value.code, refused.value.errors[0].field, refused.value.errors[0].code) == (
        "validation_error", field, code,
    )  # fmt: skip
    assert row() == before
    assert audits() == audited
    assert wallets_api.tiers_get() == schedule
    assert product_config().version == 1


@pytest.mark.parametrize(
    ("overrides", "reason", "field"),
    [({}, "  ", "reason"), ({}, "x" * 501, "reason"), (["fees"], "why", "overrides")],
)
def test_an_override_needs_a_mapping_and_a_reason(in_tenant, overrides, reason, field):
    product_config()
    before, audited = row(), audits()

    with pytest.raises(InvalidInput) as refused:
        product_config_override(overrides=overrides, reason=reason)

    assert refused.value.errors[0].field == field
    assert (row(), audits()) == (before, audited)


def test_what_defines_a_template_cannot_be_overridden(in_tenant):
    product_config()
    before, audited = row(), audits()

    with pytest.raises(BusinessRuleViolation) as refused:
        product_config_override(overrides={"version": 9, "primitives": ["wallets", "ledger"]}, reason="try")

    assert refused.value.code == "template_rule_locked"
    assert [error.field for error in refused.value.errors] == ["overrides.version", "overrides.primitives"]
    assert (row(), audits()) == (before, audited)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"features": {"overdraft": True}}, "overrides.features.overdraft"),
        ({"features": {"interest": True}}, "overrides.features.interest"),
        ({"payees": {"blocked_mccs": None}}, "overrides.payees.blocked_mccs"),
        ({"locked": []}, "overrides.locked"),
    ],
)
def test_a_sharia_wallet_never_gets_overdraft_interest_or_haram_payees(tenant_with, overrides, field):
    tenant_with("sharia_wallet")
    product_config()
    before, audited = row(), audits()

    with pytest.raises(BusinessRuleViolation) as refused:
        product_config_override(overrides=overrides, reason="try")

    assert refused.value.code == "template_rule_locked"
    assert [(error.field, error.code) for error in refused.value.errors] == [(field, "template_rule_locked")]
    assert (row(), audits()) == (before, audited)


def test_a_sharia_wallet_takes_other_overrides_and_restating_a_locked_value(tenant_with):
    tenant_with("sharia_wallet")

    config = product_config_override(
        overrides={"features": {"overdraft": False}, "fees": {"cash_out": {"PHP": {"flat": 1000}}}},
        reason="cheaper cash-out",
    )

    assert (config.version, config.fee_for("cash_out", "PHP", 100_000)) == (2, 1000)
    assert config.allows_payee(own_merchant=False, mcc="7995") is False
    assert config.allows_payee(own_merchant=False, mcc=None) is True


def test_refused_tiers_write_nothing(in_tenant):
    """wallets refuses dropping a currency in use; nothing of the override stays."""
    product_config()
    wallets_api.wallet_open(customer_id=new_id("cus"), currency="PHP", kyc_level="none")
    usd = catalog.template_load("stored_value_wallet")
    for tier in usd["tiers"]["tiers"]:
        tier["currency"] = "USD"
    fee = {"PHP": None, "USD": {"flat": 0, "percent_bps": 0, "min": 0, "max": None}}  # None drops PHP
    overrides = {"currencies": ["USD"], "tiers": usd["tiers"], "fees": {flow: fee for flow in catalog.FLOWS}}
    before, audited = row(), audits()

    with pytest.raises(BusinessRuleViolation) as refused:
        product_config_override(overrides=overrides, reason="dollars only")

    assert refused.value.code == "currency_in_use"
    assert (row(), audits()) == (before, audited)
    assert wallets_api.tiers_get().schedule == STORED_VALUE_WALLET


# --- Upgrades ----------------------------------------------------------------------------------


def _newer_template(directory: Path, **changes) -> dict:
    template = catalog.template_load("stored_value_wallet")
    template["version"] = 2
    for section, value in changes.items():
        template[section] = value
    (directory / "stored_value_wallet.yaml").write_text(yaml.safe_dump(template))
    return template


def test_an_upgrade_takes_the_new_version_and_keeps_the_overrides(in_tenant, tmp_path, monkeypatch):
    product_config_override(overrides={"fees": {"cash_out": {"PHP": {"flat": 2000}}}}, reason="pricing")
    newer = catalog.template_load("stored_value_wallet")
    newer["fees"]["transfer"]["PHP"]["flat"] = 500
    newer["tiers"]["tiers"][1]["flows"]["cash_in"]["daily_count"] = 25
    _newer_template(tmp_path, fees=newer["fees"], tiers=newer["tiers"])
    monkeypatch.setattr(catalog, "TEMPLATES_DIR", tmp_path)
    audited = audits()

    config = product_template_upgrade(reason="template v2")

    assert (config.template_version, config.version) == (2, 3)
    assert config.fees["cash_out"]["PHP"].flat == 2000  # the tenant's override, kept
    assert config.fees["transfer"]["PHP"].flat == 500  # the new version's
    assert dict(config.overrides) == {"fees": {"cash_out": {"PHP": {"flat": 2000}}}}
    assert ProductConfig.objects.get(pk=1).base["version"] == 2
    schedule = wallets_api.tiers_get().schedule
    assert schedule.tier_for(kyc_level="basic", currency="PHP").flow("cash_in").daily_count == 25
    assert audits() == audited + 2  # ours and wallets' wallet_tiers.configured
    record = AuditRecord.objects.filter(action="products.template_upgraded").get()
    assert (record.action, record.before, record.after) == (
        "products.template_upgraded",
        {"template_version": 1, "version": 2},
        {"template_version": 2, "version": 3, "overrides": {"fees": {"cash_out": {"PHP": {"flat": 2000}}}}},
    )
    # Nothing newer: nothing happens.
    assert product_template_upgrade(reason="again").version == 3
    assert audits() == audited + 2


def test_an_upgrade_the_overrides_do_not_fit_writes_nothing(in_tenant, tmp_path, monkeypatch):
    product_config_override(overrides={"fees": {"cash_out": {"PHP": {"flat": 2000}}}}, reason="pricing")
    _newer_template(tmp_path, locked=["fees.cash_out"])
    monkeypatch.setattr(catalog, "TEMPLATES_DIR", tmp_path)
    before, audited = row(), audits()

    with pytest.raises(BusinessRuleViolation) as refused:
        product_template_upgrade(reason="template v2")

    assert refused.value.code == "template_upgrade_conflict"
    assert [(e.field, e.code) for e in refused.value.errors] == [("overrides.fees.cash_out", "template_rule_locked")]
    assert (row(), audits()) == (before, audited)


# --- Command -----------------------------------------------------------------------------------


def test_the_command_shows_overrides_and_upgrades(in_tenant, tmp_path, capsys):
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("fees:\n  cash_out:\n    PHP: {flat: 2500}\n")

    call_command("products_config", "--tenant", in_tenant.slug, "--show")
    shown = capsys.readouterr().out
    call_command("products_config", "--tenant", in_tenant.slug, "--override", str(overrides), "--reason", "pricing")
    changed = capsys.readouterr().out
    call_command("products_config", "--tenant", in_tenant.slug, "--upgrade", "--reason", "newest")
    upgraded = capsys.readouterr().out

    assert "# stored_value_wallet template v1, configuration v1 (unchanged)" in shown
    assert yaml.safe_load(shown)["fees"]["cash_out"]["PHP"]["flat"] == 1500
    assert "configuration v2 (changed from v1)" in changed
    assert "flat: 2500" in changed
    assert "configuration v2 (unchanged)" in upgraded
    assert product_config().fee_for("cash_out", "PHP", 100) == 2500


def test_the_command_refuses_without_a_reason_and_names_bad_fields(in_tenant, tmp_path):
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("fees:\n  cash_out:\n    PHP: {flat: cheap}\n")

    with pytest.raises(CommandError, match="--reason"):
        call_command("products_config", "--tenant", in_tenant.slug, "--override", str(overrides))
    with pytest.raises(CommandError, match=r"overrides\.fees\.cash_out\.PHP\.flat"):
        call_command("products_config", "--tenant", in_tenant.slug, "--override", str(overrides), "--reason", "r")
    with pytest.raises(CommandError, match="no tenant"):
        call_command("products_config", "--tenant", "nobody-here", "--show")
