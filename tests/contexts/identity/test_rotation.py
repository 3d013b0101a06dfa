"""Key rotation of personal data: `manage.py pii_reencrypt`, and reads that go on meanwhile."""

import io
import json
import random
import threading

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import CommandError, call_command
from django.db import connection, connections

from contexts.identity import api
from finfactory.pii import PersonalDataError
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant

from .conftest import CustomerData, id_number

KEY_A, KEY_B, KEY_C = (Fernet.generate_key().decode() for _ in range(3))
COLUMNS = {"identity_customer": ["phone", "birth_date", "address"], "identity_kycsubmission": ["id_number"]}


def tokens() -> list[str]:
    """Every encrypted value stored in the current schema, as the raw column holds it."""
    found = []
    with connection.cursor() as cursor:
        for table, columns in COLUMNS.items():
            for column in columns:
                cursor.execute(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")
                found += [row[0] for row in cursor.fetchall()]
    return found


def decrypts_with(key: str, token: str) -> bool:
    try:
        Fernet(key).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def make_customers(count: int) -> list:
    made = []
    for _ in range(count):
        created = api.customer_create(**CustomerData())
        api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())
        made.append(api.customer_get(customer_id=created.id))
    return made


def reencrypt(*args) -> str:
    out = io.StringIO()
    call_command("pii_reencrypt", *args, stdout=out)
    return out.getvalue()


def test_rotation_moves_every_value_to_the_new_key_and_the_old_key_can_then_go(identity, settings):
    settings.ENCRYPTION_KEYS = [KEY_A]
    made = make_customers(12)
    assert all(decrypts_with(KEY_A, token) for token in tokens())
    settings.ENCRYPTION_KEYS = [KEY_B, KEY_A]

    report = json.loads(reencrypt("--tenant", identity.slug, "--batch-size", "5", "--json"))
    second = json.loads(reencrypt("--tenant", identity.slug, "--json"))

    stored = tokens()
    assert len(stored) == 12 * 4
    assert all(decrypts_with(KEY_B, token) and not decrypts_with(KEY_A, token) for token in stored)
    rotated = report["tenants"][identity.slug]
    assert {model: rotated[model] for model in ("identity.Customer", "identity.KycSubmission")} == {
        "identity.Customer": {"rows": 12, "rows_changed": 12, "values_changed": 36},
        "identity.KycSubmission": {"rows": 12, "rows_changed": 12, "values_changed": 12},
    }
    # Every encrypted field of every context is visited (webhook secrets, notification recipients…);
    # this tenant has none of those rows.
    assert {"webhooks.WebhookEndpoint", "notifications.Recipient"} <= set(rotated)
    assert all(counts["rows"] == 0 for model, counts in rotated.items() if not model.startswith("identity."))
    assert second["total"] == {"rows": 24, "rows_changed": 0, "values_changed": 0}
    settings.ENCRYPTION_KEYS = [KEY_B]
    for before in made:
        assert api.customer_get(customer_id=before.id) == before


def test_without_a_tenant_every_tenant_is_rotated_and_the_counts_are_reported(identity, make_tenant, settings):
    settings.ENCRYPTION_KEYS = [KEY_A]
    make_customers(2)
    other = make_tenant("rot").tenant
    with in_tenant(other), acting_as("system:test"):
        make_customers(3)
    settings.ENCRYPTION_KEYS = [KEY_B, KEY_A]

    output = reencrypt()

    assert f"{identity.slug} identity.Customer: 2 rows, 2 re-encrypted (6 values)" in output
    assert f"{other.slug} identity.Customer: 3 rows, 3 re-encrypted (9 values)" in output
    assert f"{other.slug} identity.KycSubmission: 3 rows, 3 re-encrypted (3 values)" in output
    with in_tenant(other):
        assert all(decrypts_with(KEY_B, token) for token in tokens())


def test_a_value_no_key_decrypts_stops_the_command_naming_the_row_but_not_the_data(identity, settings):
    settings.ENCRYPTION_KEYS = [KEY_A]
    created = api.customer_create(**CustomerData(phone="+639171234000"))
    settings.ENCRYPTION_KEYS = [KEY_C]  # key A dropped before the rotation ran

    with pytest.raises(CommandError) as failed:
        reencrypt("--tenant", identity.slug)
    with pytest.raises(PersonalDataError) as unreadable:
        api.customer_get(customer_id=created.id)

    assert "identity_customer.phone of row" in str(failed.value)
    assert str(unreadable.value) == "identity_customer.phone: no key in ENCRYPTION_KEYS decrypts the stored value"
    assert "639171234000" not in str(failed.value) + str(unreadable.value)


def test_reindex_recomputes_the_blind_indexes_after_the_index_key_changed(identity, settings):
    created = api.customer_create(**CustomerData(phone="+639175550000"))
    settings.BLIND_INDEX_KEY = "a-new-blind-index-key-of-at-least-32-characters"
    assert api.customer_list(phone="+639175550000").items == ()

    output = reencrypt("--tenant", identity.slug, "--reindex")

    assert [c.id for c in api.customer_list(phone="+639175550000").items] == [created.id]
    assert "identity.Customer: 1 rows, 0 re-encrypted (0 values), 1 reindexed" in output
    assert "identity.KycSubmission: 0 rows, 0 re-encrypted (0 values), 0 reindexed" in output


def test_an_unknown_tenant_or_batch_size_is_refused(identity):
    with pytest.raises(CommandError, match="no tenant"):
        reencrypt("--tenant", "nobody")
    with pytest.raises(CommandError, match="batch-size"):
        reencrypt("--batch-size", "0")


@pytest.mark.system
def test_reads_and_writes_go_on_while_the_rotation_runs(committed_tenants, settings, unconsumed_queue):
    settings.ENCRYPTION_KEYS = [KEY_A]
    tenant = committed_tenants("rotr").tenant
    with in_tenant(tenant), acting_as("system:test"):
        made = [api.customer_create(**CustomerData()) for _ in range(150)]
    settings.ENCRYPTION_KEYS = [KEY_B, KEY_A]
    done = threading.Event()
    failures: list[str] = []

    def rotate() -> None:
        try:
            reencrypt("--tenant", tenant.slug, "--batch-size", "10")
        except Exception as error:
            failures.append(f"rotation: {error!r}")
        finally:
            connections.close_all()
            done.set()

    rotation = threading.Thread(target=rotate)
    reads = writes = 0
    rng = random.Random(3)
    with in_tenant(tenant), acting_as("system:test"):
        rotation.start()
        while not done.is_set():
            expected = rng.choice(made)
            if api.customer_get(customer_id=expected.id) != expected:
                failures.append(f"read {expected.id} differs")
            reads += 1
            if reads % 10 == 1:  # from the first read on, so a fast rotation still sees writes
                made.append(api.customer_create(**CustomerData()))
                writes += 1
        rotation.join()
        stored = tokens()
        settings.ENCRYPTION_KEYS = [KEY_B]
        readable = all(api.customer_get(customer_id=c.id) == c for c in made)

    assert failures == []
    assert reads > 0 and writes > 0
    assert all(decrypts_with(KEY_B, token) for token in stored)
    assert readable
