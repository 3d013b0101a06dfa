"""Write side of fraud's configuration and labels. Each write is one transaction with its audit
record; the tenant's audit-chain lock is taken first (docs/adr/0014).

Scoring itself is scoring.py; review decisions are review.py.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from finfactory.audit.services import audit_lock, audit_record
from finfactory.errors import Conflict, FieldError, InvalidInput, NotFound
from finfactory.money import require_amount, require_currency
from finfactory.request_context import current_actor

from . import validation
from .default_rules import DEFAULT_RULES
from .dtos import AssessmentDTO, BlockListEntryDTO, RuleDTO
from .models import Assessment, BlockListEntry, FraudSettings, Rule
from .selectors import assessment_dto, block_dto, rule_dto


def _not_found(field: str, message: str, code: str) -> NotFound:
    return NotFound(message, code=code, errors=[FieldError(field, "Not found.", code)])


def _actor() -> str:
    return current_actor() or "system:unknown"


def _rule_state(rule: Rule) -> dict:
    return {
        "version": rule.version,
        "name": rule.name,
        "kind": rule.kind,
        "params": rule.params,
        "action": rule.action,
        "weight": rule.weight,
        "enabled": rule.enabled,
        "effective_from": rule.effective_from.isoformat(),
    }


def rule_version_create(
    *,
    code: str,
    name: str,
    kind: str,
    params: dict,
    action: str,
    weight: int,
    reason: str,
    enabled: bool = True,
    effective_from: datetime | None = None,
) -> RuleDTO:
    """A rule's next version (version 1 of a new code), in force from `effective_from` (now by
    default); the version it follows stops being in force then. A rule never changes kind: a
    different kind is a different rule. InvalidInput names the field; Conflict
    `rule_kind_changed`, `effective_from_before_current`."""
    code = validation.rule_code(code)
    if not isinstance(name, str) or not name.strip():
        raise validation.invalid("name", "This field is required.", "required")
    name = name.strip()
    if len(name) > 200:
        raise validation.invalid("name", "At most 200 characters.", "too_long")
    clean = validation.rule_params(kind, params)
    action = validation.action(action)
    weight = validation.weight(weight)
    reason = validation.reason(reason)
    if not isinstance(enabled, bool):
        raise validation.invalid("enabled", "true or false.")
    starts = validation.moment(effective_from, "effective_from")
    with transaction.atomic():
        audit_lock()
        current = Rule.objects.select_for_update().filter(code=code, effective_to__isnull=True).first()
        if current is not None and current.kind != kind:
            raise Conflict(
                f"Rule {code} is a {current.kind} rule; a {kind} rule needs its own code.",
                code="rule_kind_changed",
                errors=[FieldError("kind", f"Must stay {current.kind}.", "rule_kind_changed")],
            )
        if current is not None and starts < current.effective_from:
            raise Conflict(
                "A new version cannot take effect before the version in force did.",
                code="effective_from_before_current",
                errors=[
                    FieldError("effective_from", "Before the current version's start.", "effective_from_before_current")
                ],
            )
        latest = Rule.objects.filter(code=code).aggregate(latest=Max("version"))["latest"] or 0
        if current is not None:
            current.effective_to = starts
            current.save(update_fields=["effective_to"])
        rule = Rule.objects.create(
            code=code,
            version=latest + 1,
            name=name,
            kind=kind,
            params=clean,
            action=action,
            weight=weight,
            enabled=enabled,
            effective_from=starts,
            reason=reason,
            created_by=_actor(),
        )
        audit_record(
            action="fraud.rule_version_created",
            target_type="fraud_rule",
            target_id=code,
            before=_rule_state(current) if current else None,
            after=_rule_state(rule),
            reason=reason,
        )
    return rule_dto(rule)


def rule_disable(*, code: str, reason: str) -> RuleDTO:
    """A new version of the rule, identical but disabled (NotFound `rule_not_found`)."""
    current = Rule.objects.filter(code=code, effective_to__isnull=True).first()
    if current is None:
        raise _not_found("code", "No rule in force with this code.", "rule_not_found")
    return rule_version_create(
        code=current.code,
        name=current.name,
        kind=current.kind,
        params=current.params,
        action=current.action,
        weight=current.weight,
        reason=reason,
        enabled=False,
    )


def block_entry_add(*, kind: str, value: str, reason: str, expires_at: datetime | None = None) -> BlockListEntryDTO:
    """Block a value (an IP entry may be a CIDR network). Conflict `already_blocked`."""
    kind, value = validation.block_value(kind, value)
    reason = validation.reason(reason)
    if expires_at is not None:
        expires_at = validation.moment(expires_at, "expires_at")
        if expires_at <= timezone.now():
            raise validation.invalid("expires_at", "Must be in the future.")
    with transaction.atomic():
        audit_lock()
        if BlockListEntry.objects.filter(kind=kind, value=value, removed_at__isnull=True).exists():
            raise Conflict(
                "This value is already on the block list.",
                code="already_blocked",
                errors=[FieldError("value", "Already blocked.", "already_blocked")],
            )
        entry = BlockListEntry.objects.create(
            kind=kind, value=value, reason=reason, expires_at=expires_at, created_by=_actor()
        )
        audit_record(
            action="fraud.block_entry_added",
            target_type="fraud_block_entry",
            target_id=entry.public_id,
            after={"kind": kind, "value": value, "expires_at": expires_at.isoformat() if expires_at else None},
            reason=reason,
        )
    return block_dto(entry)


def block_entry_remove(*, entry_id: str, reason: str) -> BlockListEntryDTO:
    reason = validation.reason(reason)
    with transaction.atomic():
        audit_lock()
        entry = BlockListEntry.objects.select_for_update().filter(public_id=entry_id, removed_at__isnull=True).first()
        if entry is None:
            raise _not_found("entry_id", "No live block list entry with this id.", "block_entry_not_found")
        entry.removed_at = timezone.now()
        entry.removed_by = _actor()
        entry.save(update_fields=["removed_at", "removed_by"])
        audit_record(
            action="fraud.block_entry_removed",
            target_type="fraud_block_entry",
            target_id=entry.public_id,
            before={"kind": entry.kind, "value": entry.value},
            reason=reason,
        )
    return block_dto(entry)


def _settings_state(row: FraudSettings) -> dict:
    return {
        "review_threshold": row.review_threshold,
        "decline_threshold": row.decline_threshold,
        "dual_control_amounts": row.dual_control_amounts,
        "version": row.version,
    }


def _threshold(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
        raise validation.invalid(field, "An integer from 0 to 1000.")
    return value


def settings_update(
    *, review_threshold: int, decline_threshold: int, dual_control_amounts: dict, reason: str
) -> FraudSettings:
    """Replace the thresholds (review ≤ decline) and the per-currency dual-control amounts."""
    review = _threshold(review_threshold, "review_threshold")
    decline = _threshold(decline_threshold, "decline_threshold")
    if review > decline:
        raise validation.invalid("review_threshold", "Must not exceed decline_threshold.")
    if not isinstance(dual_control_amounts, dict):
        raise validation.invalid("dual_control_amounts", "A JSON object of currency → amount.")
    amounts = {
        require_currency(currency, field="dual_control_amounts"): require_amount(
            amount, field=f"dual_control_amounts.{currency}"
        )
        for currency, amount in dual_control_amounts.items()
    }
    reason = validation.reason(reason)
    with transaction.atomic():
        audit_lock()
        row = FraudSettings.objects.select_for_update().get_or_create(pk=1)[0]
        before = _settings_state(row)
        row.review_threshold, row.decline_threshold, row.dual_control_amounts = review, decline, amounts
        row.version += 1
        row.save()
        audit_record(
            action="fraud.settings_changed",
            target_type="fraud_settings",
            target_id=1,
            before=before,
            after=_settings_state(row),
            reason=reason,
        )
    return row


def assessment_label(*, assessment_id: str, fraudulent: bool, source: str) -> AssessmentDTO:
    """Mark what a scored movement turned out to be (a chargeback, a customer's report, a
    review): a training label. A later label replaces an earlier one, audited."""
    if not isinstance(fraudulent, bool):
        raise InvalidInput("fraudulent must be true or false.", errors=[FieldError("fraudulent", "true or false.")])
    source = validation.identifier(source, "source")
    with transaction.atomic():
        audit_lock()
        assessment = Assessment.objects.select_for_update().filter(public_id=assessment_id).first()
        if assessment is None:
            raise _not_found("assessment_id", "No assessment with this id.", "assessment_not_found")
        before = {"label": assessment.label, "label_source": assessment.label_source}
        label_apply(assessment, fraudulent=fraudulent, source=source)
        audit_record(
            action="fraud.assessment_labelled",
            target_type="fraud_assessment",
            target_id=assessment.public_id,
            before=before,
            after={"label": fraudulent, "label_source": source},
        )
    return assessment_dto(assessment)


def label_apply(assessment: Assessment, *, fraudulent: bool, source: str) -> None:
    assessment.label, assessment.label_source, assessment.labelled_at = fraudulent, source, timezone.now()
    assessment.save(update_fields=["label", "label_source", "labelled_at"])


def default_rules_install(*, reason: str, params: dict[str, dict] | None = None) -> list[RuleDTO]:
    """Version 1 of each default rule (default_rules.py) whose code the tenant does not have yet;
    `params` tunes the pack as it is installed ({code: {param: value}}, merged over the defaults)."""
    params = params or {}
    unknown = sorted(set(params) - {rule["code"] for rule in DEFAULT_RULES})
    if unknown:
        raise validation.invalid("params", f"No default rule {unknown[0]!r}.", "invalid")
    have = set(Rule.objects.values_list("code", flat=True).distinct())
    return [
        rule_version_create(**{**rule, "params": {**rule["params"], **params.get(rule["code"], {})}}, reason=reason)
        for rule in DEFAULT_RULES
        if rule["code"] not in have
    ]
