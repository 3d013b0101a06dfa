"""sharia_wallet: no interest-bearing or overdraft feature, in every flow that exists."""

import pytest

from contexts.ledger import api as ledger_api
from contexts.products import api
from contexts.products.configuration import product_config, product_config_override
from contexts.products.workflows import wallet_account
from finfactory.errors import PlatformError

from .conftest import balance, ref, tenant_with_template, writes


@pytest.fixture(scope="module")
def module_tenant(django_db_setup, django_db_blocker):
    yield from tenant_with_template(django_db_blocker, "sharia_wallet")


def test_a_wallet_account_never_has_an_overdraft(wallet):
    opened = wallet(10_000)

    account = ledger_api.account_get(account_id=wallet_account(opened.id))

    assert account.overdraft_limit in (None, 0)
    assert not product_config().feature("overdraft") and not product_config().feature("interest")


def test_spending_beyond_the_balance_is_refused_not_lent(wallet):
    payer, payee = wallet(10_000), wallet()

    with pytest.raises(PlatformError) as caught:
        api.transfer(source_wallet_id=payer.id, destination_wallet_id=payee.id, amount=10_001, currency="PHP",
                     reference=ref())  # fmt: skip
    assert caught.value.code == "insufficient_funds"
    assert balance(payer.id) == (10_000, 0, 10_000)


@pytest.mark.parametrize("feature", ["overdraft", "interest"])
def test_the_tenant_cannot_switch_on_overdraft_or_interest(product, feature):
    before = writes()

    with pytest.raises(PlatformError) as caught:
        product_config_override(overrides={"features": {feature: True}}, reason="try")

    assert caught.value.code == "template_rule_locked"
    assert caught.value.errors[0].field == f"overrides.features.{feature}"
    assert writes() == before and not product_config().feature(feature)


def test_it_does_not_pay_bars_or_casinos_by_qr_or_transfer(wallet, merchant):
    from .test_workflows import refused

    payer = wallet(50_000)
    bar, bar_code = merchant(mcc="5813")
    _, grocer_code = merchant(mcc="5411")

    refused("payee_not_allowed", api.qr_payment, wallet_id=payer.id, payload=bar_code, amount=1_000, reference=ref())
    refused("payee_not_allowed", api.transfer, source_wallet_id=payer.id, destination_wallet_id=bar.id,
            amount=1_000, currency="PHP", reference=ref())  # fmt: skip
    assert api.qr_payment(wallet_id=payer.id, payload=grocer_code, amount=1_000, reference=ref()).status == "succeeded"
