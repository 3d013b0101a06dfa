"""Identity test fixtures: a tenant to work in, customer data builders, and what was written."""

import itertools
import uuid

import factory
import pytest
import redis
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from contexts.identity import api
from contexts.identity.models import Customer, KycCase, KycSubmission, RiskFlag, WatchlistEntry
from contexts.identity.risk import watchlist_entry_save
from finfactory.audit.models import AuditRecord
from finfactory.backoffice.models import ApprovalRequest
from finfactory.outbox.models import OutboxEvent
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Tenant
from finfactory.tenancy.schemas import tenant_schema_drop
from tests.factories import provision_tenant
from tests.system.conftest import celery_workers, child_env  # noqa: F401 - fixtures for the worker tests

_letters = "abcdefghijklmnopqrstuvwxyz"


def _word(n: int) -> str:
    """Distinct letter-only suffixes (names must be letters), far from any watchlist test name."""
    word = ""
    for _ in range(3):
        n, index = divmod(n, 26)
        word += _letters[index]
    return word


class CustomerData(factory.DictFactory):
    """Keyword arguments of api.customer_create for a complete, valid customer."""

    first_name = factory.Sequence(lambda n: f"Amihan{_word(n)}")
    last_name = factory.Sequence(lambda n: f"Dalisay{_word(n)}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+63917{n % 10_000_000:07d}")
    birth_date = "1990-06-19"
    address = factory.Dict({"line1": "12 Mabini St", "city": "Manila", "region": "NCR", "postal_code": "1000",
                            "country": "PH"})  # fmt: skip
    external_id = factory.Sequence(lambda n: f"ext-{n}")


_id_numbers = itertools.count(100_001)


def id_number(suffix: str = "") -> str:
    """A fresh ID number; suffix "0000" makes the sandbox reject it."""
    number = f"P{next(_id_numbers)}"
    return f"{number}{suffix}" if suffix else f"{number}7"


@pytest.fixture(scope="session")
def identity_tenant(django_db_setup, django_db_blocker) -> Tenant:
    """One committed tenant per test session (per xdist worker): cloning a schema for every test
    would cost more than the tests. Each test still runs in a transaction rolled back at its end
    (the `db` fixture), so no test sees another's rows."""
    with django_db_blocker.unblock():
        tenant = provision_tenant("idt").tenant
        connection.set_schema_to_public()
        # Keep the schema, not the committed public rows: other tests of this worker count tenants
        # and public audit records. `identity` puts the tenant row back inside each test's
        # transaction. (The test database allows TRUNCATE of the public audit table, not DELETE.)
        Tenant.objects.filter(pk=tenant.pk).delete()
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_record")
    yield tenant
    with django_db_blocker.unblock():
        tenant_schema_drop(tenant.schema_name)


@pytest.fixture
def identity(db, identity_tenant):
    """Run the test inside the session's tenant schema, in the test's transaction."""
    # The session's tenant row is not committed (identity_tenant): put it back inside this test's
    # transaction, for code that looks tenants up.
    Tenant.objects.bulk_create([identity_tenant])
    with in_tenant(identity_tenant), acting_as("system:test", request_id="req_identity_test"):
        yield identity_tenant


@pytest.fixture
def unconsumed_queue(settings):
    """Identity's tasks go to a queue no worker reads, emptied after the test."""
    queue = f"identity-unconsumed-{uuid.uuid4().hex[:8]}"
    settings.IDENTITY_QUEUE = queue
    yield queue
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(queue)
    client.close()


@pytest.fixture
def customer(identity):
    """customer(**overrides) creates a customer through the API and returns its DTO."""

    def make(**overrides):
        return api.customer_create(**CustomerData(**overrides))

    return make


@pytest.fixture
def watchlist(identity):
    """watchlist(full_name, list_name="OFAC SDN") adds an active entry through the service."""

    def add(full_name: str, list_name: str = "OFAC SDN", active: bool = True) -> WatchlistEntry:
        return watchlist_entry_save(
            entry=WatchlistEntry(), full_name=full_name, list_name=list_name, note="", active=active,
            actor="user:compliance",
        )  # fmt: skip

    return add


@pytest.fixture
def staff(identity):
    """staff(username, role) -> a staff user of the tenant in that role group."""

    def make(username: str, role: str | None = None, **fields):
        user = get_user_model().objects.create_user(username=username, password=None, is_staff=True, **fields)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


CASE_COLUMNS = ("public_id", "status", "level", "attempts", "rejections", "current_submission_id", "verified_at",
                "expires_at", "rejected_at", "expired_at", "updated_at")  # fmt: skip


def written() -> dict:
    """Everything identity's writes touch in the current schema, to compare before and after."""
    return {
        "customers": list(Customer.objects.order_by("id").values("public_id", "external_id", "updated_at")),
        "cases": list(KycCase.objects.order_by("id").values(*CASE_COLUMNS)),
        "submissions": list(
            KycSubmission.objects.order_by("id").values("public_id", "status", "sent_at", "decided_at")
        ),
        "flags": list(RiskFlag.objects.order_by("id").values("public_id", "status", "clearance_approval_id")),
        "approvals": list(ApprovalRequest.objects.order_by("id").values("public_id", "status")),
        "events": OutboxEvent.objects.count(),
        "audit": AuditRecord.objects.count(),
    }


def events(type_prefix: str = "") -> list[tuple[str, str, dict]]:
    """(type, aggregate_id, data) of the outbox events published so far, oldest first."""
    rows = OutboxEvent.objects.filter(type__startswith=type_prefix).order_by("id")
    return [(row.type, row.aggregate_id, row.data) for row in rows]


def audit_trail(prefix: str = "") -> list[tuple[str, str, str, dict | None, dict | None]]:
    rows = AuditRecord.objects.filter(action__startswith=prefix).order_by("id")
    return [(r.action, r.actor, r.target_id, r.before, r.after) for r in rows]
