"""Write side of customers. KYC transitions are in kyc.py, risk flags and the watchlist in risk.py."""

from __future__ import annotations

import json
from datetime import date

from django.db import IntegrityError, transaction

from finfactory.audit.services import audit_record
from finfactory.errors import Conflict, FieldError
from finfactory.outbox.publish import publish
from finfactory.pii import keyed_digest

from . import locks, risk, selectors, validation
from .dtos import Address, CustomerDTO
from .models import Customer, KycCase

EXTERNAL_ID_CONSTRAINT = "identity_customer_external_id"


def _request_digest(values: dict) -> str:
    """Keyed, so that the stored digest cannot be used to confirm a guess of someone's data."""
    canonical = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))
    return keyed_digest("customer.create_request", canonical)


def _replay(customer: Customer, digest: str) -> CustomerDTO:
    if customer.request_digest != digest:
        raise Conflict(
            "external_id is already used by a customer created with different data.",
            code="external_id_reused",
            errors=[FieldError("external_id", "Already used for a different customer.", "external_id_reused")],
        )
    return selectors.customer_dto(customer, selectors.case_of(customer), replayed=True)


def customer_create(
    *,
    first_name: str,
    last_name: str,
    email: str,
    phone: str | None = None,
    birth_date: date | str | None = None,
    address: Address | dict | None = None,
    external_id: str | None = None,
    actor: str | None = None,
) -> CustomerDTO:
    """Create a customer (and its KYC case, not started), screen the name against the watchlist.

    With an `external_id`, a retry with the same data returns the first customer
    (`replayed=True`, nothing written) and different data is refused (409 external_id_reused),
    also when two calls race.
    """
    values = {
        "first_name": validation.name(first_name, "first_name"),
        "last_name": validation.name(last_name, "last_name"),
        "email": validation.email(email),
        "phone": validation.phone(phone),
        "birth_date": validation.birth_date(birth_date),
        "address": validation.address(address),
        "external_id": validation.external_id(external_id),
    }
    if values["address"] is not None:
        values["address"] = values["address"].as_dict()
    digest = _request_digest(values)
    if values["external_id"] is not None:
        existing = Customer.objects.filter(external_id=values["external_id"]).first()
        if existing is not None:
            return _replay(existing, digest)
    try:
        with transaction.atomic():
            locks.audit_chain()
            customer = Customer.objects.create(**values, request_digest=digest)
            case = KycCase.objects.create(customer=customer)
            publish(
                "customer.created",
                customer.public_id,
                {
                    "customer_id": customer.public_id,
                    "external_id": customer.external_id,
                    "created_at": customer.created_at.isoformat().replace("+00:00", "Z"),
                },
            )
            risk.screen_customer(customer, actor=actor)
            audit_record(
                action="customer.created",
                target_type="customer",
                target_id=customer.public_id,
                after={
                    "external_id": customer.external_id,
                    "kyc_status": case.status,
                    "fields": sorted(name for name, value in values.items() if value is not None),
                },
                actor=actor,
            )
    except IntegrityError as error:
        if values["external_id"] is None or EXTERNAL_ID_CONSTRAINT not in str(error):
            raise
        # A concurrent call with the same external_id committed first.
        return _replay(Customer.objects.get(external_id=values["external_id"]), digest)
    return selectors.customer_dto(customer, case)
