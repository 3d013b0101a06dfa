"""Frozen values identity hands out (re-exported by contexts.identity.api). Never model instances.

Personal fields are left out of the reprs (`repr=False`), so a DTO in a log line, a traceback or
a debugger shows ids and statuses only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Address:
    line1: str = field(repr=False)
    city: str = field(repr=False)
    country: str  # ISO 3166-1 alpha-2
    line2: str = field(default="", repr=False)
    region: str = field(default="", repr=False)
    postal_code: str = field(default="", repr=False)

    def as_dict(self) -> dict:
        return {
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "region": self.region,
            "postal_code": self.postal_code,
            "country": self.country,
        }


@dataclass(frozen=True)
class CustomerDTO:
    id: str
    external_id: str | None
    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    email: str = field(repr=False)
    phone: str | None = field(repr=False)
    birth_date: date | None = field(repr=False)
    address: Address | None = field(repr=False)
    kyc_status: str
    kyc_level: str
    created_at: datetime
    replayed: bool = False


@dataclass(frozen=True)
class KycStatusDTO:
    customer_id: str
    kyc_id: str
    status: str  # not_started | pending | verified | rejected | expired
    level: str  # none | basic | full: what the customer is verified for now
    attempts: int
    rejections: int
    resubmissions_left: int
    blocked_by_risk: bool  # an open risk flag holds the verification
    submission_id: str | None
    submitted_at: datetime | None
    verified_at: datetime | None
    expires_at: datetime | None
    rejection_reason: str
    replayed: bool = False
