"""finfactory.pii: encrypted fields, blind indexes, masking, and the production key requirement."""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from finfactory import crypto
from finfactory.pii import (
    BlindIndexField,
    EncryptedDateField,
    EncryptedJSONField,
    EncryptedTextField,
    PersonalDataError,
    blind_index,
    initials,
    keyed_digest,
    mask,
    mask_email,
    normalize_text,
)

ROOT = Path(__file__).resolve().parents[2]


def field(cls, name: str = "secret"):
    instance = cls(null=True)
    instance.set_attributes_from_name(name)
    return instance


@pytest.mark.parametrize(
    ("cls", "value", "text"),
    [
        (EncryptedTextField, "+639171234567", "+639171234567"),
        (EncryptedTextField, "", ""),
        (EncryptedDateField, date(1990, 6, 19), "1990-06-19"),
        (EncryptedJSONField, {"city": "Manila", "line1": "1 Rizal Ave"}, '{"city":"Manila","line1":"1 Rizal Ave"}'),
    ],
)
def test_an_encrypted_field_stores_a_fernet_token_and_reads_back_the_value(cls, value, text):
    encrypted = field(cls)

    stored = encrypted.get_prep_value(value)

    assert stored.startswith("gAAAAA")
    assert not text or text not in stored
    assert crypto.decrypt(stored.encode()).decode() == text
    assert encrypted.from_db_value(stored, None, None) == value
    assert encrypted.get_prep_value(value) != stored  # randomised: equal values do not look equal


def test_none_stays_none():
    assert field(EncryptedTextField).get_prep_value(None) is None
    assert field(EncryptedTextField).from_db_value(None, None, None) is None


@pytest.mark.parametrize(("cls", "value"), [(EncryptedTextField, 42), (EncryptedDateField, "1990-06-19")])
def test_a_value_of_the_wrong_type_is_refused_without_showing_it(cls, value):
    with pytest.raises(TypeError) as refused:
        field(cls).get_prep_value(value)
    assert str(value) not in str(refused.value)


def test_only_isnull_can_be_looked_up_on_an_encrypted_field():
    encrypted = field(EncryptedTextField)

    assert encrypted.get_lookup("isnull") is not None
    assert [encrypted.get_lookup(name) for name in ("exact", "iexact", "in", "contains", "startswith")] == [None] * 5
    assert encrypted.get_transform("lower") is None


def test_a_token_no_configured_key_decrypts_raises_without_the_data(settings):
    token = Fernet(Fernet.generate_key()).encrypt(b"+639171234567").decode()

    with pytest.raises(PersonalDataError) as unreadable:
        field(EncryptedTextField, "phone").from_db_value(token, None, None)

    assert str(unreadable.value) == "phone: no key in ENCRYPTION_KEYS decrypts the stored value"


def test_older_keys_keep_decrypting_after_a_new_key_is_prepended(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    stored = field(EncryptedTextField).get_prep_value("+639171234567")

    settings.ENCRYPTION_KEYS = [new, old]

    assert field(EncryptedTextField).from_db_value(stored, None, None) == "+639171234567"
    assert Fernet(new).decrypt(field(EncryptedTextField).get_prep_value("x").encode()) == b"x"


def test_a_blind_index_is_a_keyed_hmac_of_the_normalised_value_per_purpose(settings):
    index = blind_index("customer.phone", "+639171234567")

    assert len(index) == 64 and int(index, 16) >= 0
    assert blind_index("customer.phone", " +639171234567 ") == index
    assert blind_index("kyc.id_number", "P1234567") == blind_index("kyc.id_number", "p1234567")
    assert blind_index("kyc.id_number", "+639171234567") != index  # purposes do not link
    settings.BLIND_INDEX_KEY = "another-blind-index-key-0123456789abcdef"
    assert blind_index("customer.phone", "+639171234567") != index  # nobody without the key can compute it


def test_a_keyed_digest_is_exact():
    assert keyed_digest("x", "Maria") != keyed_digest("x", "maria")


def test_normalisation_folds_case_width_and_spaces():
    assert normalize_text("  \uff2d\uff21\uff32\uff29\uff21   Clara ")  # full-width MARIA == "maria clara"


@pytest.mark.parametrize("key", ["", "too-short", None])
def test_a_missing_or_short_blind_index_key_is_a_configuration_error(settings, key):
    settings.BLIND_INDEX_KEY = key

    with pytest.raises(ImproperlyConfigured):
        blind_index("customer.phone", "+639171234567")


def test_a_blind_index_field_follows_its_source_on_save():
    class Row:
        phone = "+639171234567"
        phone_index = ""

    index_field = BlindIndexField(source="phone", purpose="customer.phone")
    index_field.set_attributes_from_name("phone_index")
    row = Row()

    assert index_field.pre_save(row, add=True) == blind_index("customer.phone", "+639171234567")
    assert row.phone_index == blind_index("customer.phone", "+639171234567")
    row.phone = None
    assert index_field.pre_save(row, add=False) == ""
    _, path, _, kwargs = index_field.deconstruct()
    assert (path, kwargs) == ("finfactory.pii.BlindIndexField", {"source": "phone", "purpose": "customer.phone"})


def test_masks_show_little_and_never_more_than_a_third():
    assert mask("+639171234567", visible=4) == "•••••••••4567"
    assert mask("1234", visible=4) == "•••4"
    assert mask("ab", visible=4) == "••"
    assert mask(None) == mask("") == ""
    assert mask_email("maria.clara@example.com") == "m•••@example.com"
    assert mask_email("no-at-sign") == "••••••••••"
    assert initials("Maria", " clara ", None, "") == "M. C."


def _settings_import(env: dict) -> subprocess.CompletedProcess:
    code = "import django; django.setup(); from django.conf import settings; print(settings.BLIND_INDEX_KEY)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_production_refuses_to_start_without_a_blind_index_key_and_never_derives_one():
    base = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "BLIND_INDEX_KEY"))}
    env = {
        **base,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": "s" * 50,
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "api.example.com",
    }

    missing = _settings_import(env)
    given = _settings_import({**env, "BLIND_INDEX_KEY": "k" * 48})

    assert missing.returncode != 0 and "BLIND_INDEX_KEY" in missing.stderr
    assert (given.returncode, given.stdout.strip()) == (0, "k" * 48)


def test_tests_and_development_derive_a_key_from_the_secret_key(settings):
    assert len(settings.BLIND_INDEX_KEY) == 64
