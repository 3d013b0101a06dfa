"""What fraud's api returns: frozen dataclasses, never model instances."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AssessmentDTO:
    """A scored movement.

    `decision` is approve | review | decline; `score` 0-1000 is the model's score plus the
    weights of the rules that fired (capped at 1000); `reasons` lists each rule that fired
    (type "rule": code, version, kind, action, weight, detail) and the model's view (type
    "model": version, score, top_features). A review leaves `case_id` open until an operator
    decides; `replayed` is true when the reference had been scored before.
    """

    id: str
    reference: str
    decision: str
    score: int
    rules_score: int
    model_version: int | None
    model_score: int | None
    reasons: tuple[dict, ...]
    case_id: str | None
    case_status: str | None
    occurred_at: datetime
    replayed: bool = False

    @property
    def rules_fired(self) -> tuple[str, ...]:
        return tuple(reason["code"] for reason in self.reasons if reason["type"] == "rule")


@dataclass(frozen=True)
class ReviewCaseDTO:
    id: str
    assessment_id: str
    reference: str
    status: str
    amount: int
    currency: str
    opened_at: datetime
    decided_at: datetime | None
    decided_by: str
    approval_id: str | None


@dataclass(frozen=True)
class RuleDTO:
    id: str
    code: str
    version: int
    name: str
    kind: str
    params: dict
    action: str
    weight: int
    enabled: bool
    effective_from: datetime
    effective_to: datetime | None


@dataclass(frozen=True)
class BlockListEntryDTO:
    id: str
    kind: str
    value: str
    reason: str
    expires_at: datetime | None
    removed: bool
