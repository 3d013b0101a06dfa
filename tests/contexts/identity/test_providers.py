"""Which provider a tenant's submissions go to, and the settings checks that guard the choice."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from contexts.identity import api
from contexts.identity.checks import identity_settings
from contexts.identity.models import KycSubmission

from .conftest import id_number, written


def provider_of(status) -> str:
    return KycSubmission.objects.get(public_id=status.submission_id).provider


def test_the_setting_chooses_the_provider_and_a_tenant_may_have_its_own(customer, identity, settings):
    settings.IDENTITY_KYC_PROVIDER = "sandbox"
    first = api.kyc_submit(customer_id=customer().id, id_type="passport", id_number=id_number())
    settings.IDENTITY_KYC_PROVIDER_BY_TENANT = {identity.slug: "vendor", "someone-else": "sandbox"}
    second = api.kyc_submit(customer_id=customer().id, id_type="passport", id_number=id_number())

    assert (provider_of(first), provider_of(second)) == ("sandbox", "vendor")


def test_an_unknown_provider_refuses_the_submission_and_writes_nothing(customer, settings):
    created = customer()
    settings.IDENTITY_KYC_PROVIDER = "acme-kyc"
    before = written()

    with pytest.raises(ImproperlyConfigured):
        api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())

    assert written() == before


def test_the_default_settings_pass_the_checks():
    assert identity_settings() == []


@pytest.mark.parametrize(
    ("overrides", "check_id"),
    [
        ({"IDENTITY_KYC_PROVIDER": "acme-kyc"}, "identity.E001"),
        ({"IDENTITY_KYC_PROVIDER_BY_TENANT": {"demo": "acme-kyc"}}, "identity.E001"),
        ({"IDENTITY_KYC_PROVIDER": "vendor"}, "identity.E002"),
        ({"IDENTITY_KYC_PROVIDER_BY_TENANT": {"demo": "vendor"}, "IDENTITY_VENDOR_BASE_URL": "ftp://x",
          "IDENTITY_VENDOR_API_KEY": "k", "IDENTITY_VENDOR_WEBHOOK_SECRETS": ["s"]}, "identity.E002"),
        ({"IDENTITY_KYC_MAX_RESUBMISSIONS": -1}, "identity.E003"),
        ({"IDENTITY_KYC_VALIDITY_DAYS": 0}, "identity.E003"),
        ({"IDENTITY_WATCHLIST_MATCH_THRESHOLD": 0}, "identity.E004"),
    ],
)  # fmt: skip
def test_misconfigured_settings_fail_the_checks(settings, overrides, check_id):
    for name, value in overrides.items():
        setattr(settings, name, value)

    assert [error.id for error in identity_settings()] == [check_id]


def test_a_complete_vendor_configuration_passes(settings):
    settings.IDENTITY_KYC_PROVIDER = "vendor"
    settings.IDENTITY_VENDOR_BASE_URL = "https://kyc.example.com"
    settings.IDENTITY_VENDOR_API_KEY = "key"
    settings.IDENTITY_VENDOR_WEBHOOK_SECRETS = ["secret"]

    assert identity_settings() == []
