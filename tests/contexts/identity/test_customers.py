"""Customers through contexts.identity.api: creation, validation, idempotency, reads, lists."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import FieldError as DjangoFieldError
from django.db import connection
from django.utils import timezone

from contexts.identity import api
from contexts.identity.models import Customer, KycCase
from finfactory import crypto
from finfactory.errors import Conflict, InvalidInput, NotFound

from .conftest import CustomerData, audit_trail, events, written


def test_a_customer_is_created_with_kyc_not_started_and_reads_back_decrypted(identity):
    data = CustomerData(phone="+63 917 555 0101", email="Maria.Clara@EXAMPLE.com")

    created = api.customer_create(**data)

    assert created.id.startswith("cus_")
    assert (created.kyc_status, created.kyc_level, created.replayed) == ("not_started", "none", False)
    fetched = api.customer_get(customer_id=created.id)
    assert fetched == created
    assert (fetched.first_name, fetched.last_name) == (data["first_name"], data["last_name"])
    assert fetched.email == "Maria.Clara@example.com"  # the domain is case-insensitive, the local part is not
    assert fetched.phone == "+639175550101"  # stored in E.164 whatever the spacing
    assert fetched.birth_date == date(1990, 6, 19)
    assert fetched.address.as_dict() == {"line1": "12 Mabini St", "line2": "", "city": "Manila", "region": "NCR",
                                         "postal_code": "1000", "country": "PH"}  # fmt: skip
    assert fetched.external_id == data["external_id"]
    assert KycCase.objects.get(customer__public_id=created.id).status == "not_started"


def test_creation_publishes_customer_created_and_audits_without_personal_data(identity):
    created = api.customer_create(**CustomerData(external_id="crm-42"))

    assert events() == [
        ("customer.created", created.id,
         {"customer_id": created.id, "external_id": "crm-42",
          "created_at": created.created_at.isoformat().replace("+00:00", "Z")}),
    ]  # fmt: skip
    assert audit_trail("customer.") == [
        ("customer.created", "system:test", created.id, None,
         {"external_id": "crm-42", "kyc_status": "not_started",
          "fields": ["address", "birth_date", "email", "external_id", "first_name", "last_name", "phone"]}),
    ]  # fmt: skip


def test_personal_identifiers_are_unreadable_in_the_columns_and_readable_through_the_api(identity):
    created = api.customer_create(**CustomerData(phone="+639171110000", birth_date="1985-12-30"))

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone, birth_date, address, phone_index FROM identity_customer WHERE public_id = %s", [created.id]
        )
        phone, birth_date, address, phone_index = cursor.fetchone()

    for column in (phone, birth_date, address):
        assert column.startswith("gAAAAA")  # a Fernet token
        assert "639171110000" not in column and "1985" not in column and "Mabini" not in column
    assert crypto.decrypt(phone.encode()) == b"+639171110000"
    assert crypto.decrypt(birth_date.encode()) == b"1985-12-30"
    assert len(phone_index) == 64 and "639171110000" not in phone_index
    assert api.customer_get(customer_id=created.id).phone == "+639171110000"


def test_encrypted_columns_cannot_be_searched_by_value(identity):
    with pytest.raises(DjangoFieldError):
        list(Customer.objects.filter(phone="+639171110000"))
    assert list(Customer.objects.filter(phone__isnull=True)) == []


def test_the_same_external_id_and_data_again_returns_the_first_customer_and_writes_nothing(identity):
    data = CustomerData(external_id="crm-7")
    first = api.customer_create(**data)
    before = written()

    again = api.customer_create(**{**data, "phone": "+63 917 " + data["phone"][6:9] + " " + data["phone"][9:]})

    assert again.replayed is True
    assert again.id == first.id
    assert written() == before


def test_the_same_external_id_with_different_data_is_refused_and_writes_nothing(identity):
    data = CustomerData(external_id="crm-8")
    api.customer_create(**data)
    before = written()

    with pytest.raises(Conflict) as refused:
        api.customer_create(**{**data, "last_name": "Someone Else"})

    assert refused.value.code == "external_id_reused"
    assert [(e.field, e.code) for e in refused.value.errors] == [("external_id", "external_id_reused")]
    assert "Someone" not in str(refused.value)
    assert written() == before


def test_without_external_id_each_call_creates_a_customer(identity):
    data = CustomerData(external_id=None)

    first, second = api.customer_create(**data), api.customer_create(**data)

    assert first.id != second.id
    assert Customer.objects.filter(external_id__isnull=True).count() == 2


def test_only_the_required_fields_are_needed(identity):
    created = api.customer_create(first_name="Lea", last_name="Salonga", email="lea@example.com")

    assert (created.phone, created.birth_date, created.address, created.external_id) == (None, None, None, None)


TOMORROW = (timezone.now().date() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"first_name": ""}, "first_name", "required"),
        ({"first_name": "   "}, "first_name", "required"),
        ({"first_name": None}, "first_name", "required"),
        ({"first_name": ["Ana"]}, "first_name", "invalid_type"),
        ({"last_name": "x" * 101}, "last_name", "too_long"),
        ({"last_name": "1234"}, "last_name", "invalid_name"),
        ({"last_name": "Cruz\x00"}, "last_name", "invalid_characters"),
        ({"email": "not-an-email"}, "email", "invalid_email"),
        ({"email": 42}, "email", "invalid_type"),
        ({"phone": "09171234567"}, "phone", "invalid_phone"),
        ({"phone": "+63 917"}, "phone", "invalid_phone"),
        ({"phone": "+1 555 0100"}, "phone", "invalid_phone"),
        ({"birth_date": "19-06-1990"}, "birth_date", "invalid_date"),
        ({"birth_date": TOMORROW}, "birth_date", "date_in_future"),
        ({"birth_date": "1899-12-31"}, "birth_date", "date_too_old"),
        ({"birth_date": 19900619}, "birth_date", "invalid_date"),
        ({"address": "12 Mabini St, Manila"}, "address", "invalid_type"),
        ({"address": {"line1": "12 Mabini St", "city": "Manila"}}, "address.country", "required"),
        ({"address": {"line1": "12 Mabini St", "city": "Manila", "country": "XX"}}, "address.country",
         "invalid_country"),
        ({"address": {"line1": "", "city": "Manila", "country": "PH"}}, "address.line1", "required"),
        ({"address": {"line1": "1 A St", "city": "Manila", "country": "PH", "floor": 3}}, "address.floor",
         "unknown_field"),
        ({"external_id": "has space"}, "external_id", "invalid_characters"),
        ({"external_id": "x" * 101}, "external_id", "too_long"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(identity, override, field, code):
    before = written()

    with pytest.raises(InvalidInput) as refused:
        api.customer_create(**CustomerData(**override))

    assert refused.value.code == "validation_error"
    assert [(e.field, e.code) for e in refused.value.errors] == [(field, code)]
    value = next(iter(override.values()))
    if isinstance(value, str) and len(value) > 3 and value.strip():
        assert value not in str(refused.value)  # a refusal never repeats what it refused
        assert all(value not in e.message for e in refused.value.errors)
    assert written() == before


def test_an_unknown_customer_is_not_found(identity):
    with pytest.raises(NotFound) as missing:
        api.customer_get(customer_id="cus_00000000000000000000000000")
    assert missing.value.code == "customer_not_found"
    assert [(e.field, e.code) for e in missing.value.errors] == [("customer_id", "not_found")]

    with pytest.raises(InvalidInput) as malformed:
        api.customer_get(customer_id="wal_123")
    assert [(e.field, e.code) for e in malformed.value.errors] == [("customer_id", "invalid_id")]


def test_another_tenants_customer_is_not_found(make_tenant, customer):
    mine = customer()
    other = make_tenant("other").tenant

    from finfactory.tenancy.context import in_tenant

    with in_tenant(other), pytest.raises(NotFound):
        api.customer_get(customer_id=mine.id)


def test_the_list_is_newest_first_in_pages_that_concurrent_inserts_do_not_shift(identity, customer):
    made = [customer() for _ in range(5)]

    first = api.customer_list(limit=2)
    customer()  # a newer customer arrives between two pages
    second = api.customer_list(limit=2, cursor=first.next_cursor)
    third = api.customer_list(limit=2, cursor=second.next_cursor)

    assert [c.id for c in first.items] == [made[4].id, made[3].id]
    assert [c.id for c in second.items] == [made[2].id, made[1].id]
    assert [c.id for c in third.items] == [made[0].id]
    assert (first.has_more, second.has_more, third.has_more) == (True, True, False)
    assert third.next_cursor is None


def test_the_list_filters_by_phone_through_the_blind_index_and_by_external_id_and_status(identity, customer):
    wanted = customer(phone="+639178881234")
    customer(phone="+639178885678")

    by_phone = api.customer_list(phone="+63 917 888 1234")
    by_external_id = api.customer_list(external_id=wanted.external_id)
    not_started = api.customer_list(kyc_status="not_started")
    pending = api.customer_list(kyc_status="pending")

    assert [c.id for c in by_phone.items] == [wanted.id]
    assert [c.id for c in by_external_id.items] == [wanted.id]
    assert len(not_started.items) == 2
    assert pending.items == ()


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"cursor": "bm9wZTox"}, "cursor", "invalid_cursor"),
        ({"cursor": "%%%"}, "cursor", "invalid_cursor"),
        ({"limit": 0}, "limit", "invalid_limit"),
        ({"limit": 101}, "limit", "invalid_limit"),
        ({"phone": "12345"}, "phone", "invalid_phone"),
        ({"kyc_status": "approved"}, "kyc_status", "invalid_choice"),
    ],
)
def test_bad_list_arguments_are_refused_naming_the_field(identity, kwargs, field, code):
    with pytest.raises(InvalidInput) as refused:
        api.customer_list(**kwargs)
    assert [(e.field, e.code) for e in refused.value.errors] == [(field, code)]
