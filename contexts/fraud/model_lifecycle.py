"""Moving a trained model between candidate, shadow, active and retired.

At most one model is active (its score is enforced) and at most one is shadow (scored and logged
beside it, to compare before switching); the database's partial unique constraints
`fraud_model_one_active` and `fraud_model_one_shadow` hold that even against a bug here. Taking a
slot retires the model that held it — the transitions have no way back to candidate, and a
retired model can be shadowed or activated again — and the holder is demoted before the new
model is promoted, or the constraint would see two holders for a moment.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import can_proceed

from finfactory.audit.services import audit_lock, audit_record
from finfactory.errors import Conflict, FieldError, InvalidInput, NotFound

from .models import ModelStatus, ModelVersion

AUDIT_TARGET = "fraud_model"
MAX_REASON = 500
# target status → the ModelVersion transition that reaches it
TRANSITIONS = {ModelStatus.SHADOW: "shadow", ModelStatus.ACTIVE: "activate", ModelStatus.RETIRED: "retire"}
SLOTS = (ModelStatus.SHADOW, ModelStatus.ACTIVE)  # statuses only one model holds at a time


def _invalid(name: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(f"{name}: {message}", errors=[FieldError(name, message, code)])


def check_version(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _invalid("version", "A model version number (a positive integer).")
    return value


def check_status(value: object, allowed) -> str:
    if value not in allowed:
        raise _invalid("status", f"One of: {', '.join(allowed)}.", "invalid_choice")
    return str(value)


def check_actor(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise _invalid("actor", "Who acts, e.g. operator:jane (at most 200 characters).", "required")
    return value.strip()


def check_reason(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        message = "A reason is required."
        raise InvalidInput(
            f"reason: {message}", code="reason_required", errors=[FieldError("reason", message, "reason_required")]
        )
    if len(value) > MAX_REASON:
        raise _invalid("reason", f"At most {MAX_REASON} characters.", "too_long")
    return value.strip()


def model_status_set(*, version: int, status: str, actor: str, reason: str) -> ModelVersion:
    """Move model `version` to `status` (shadow, active or retired), retiring the model that held
    that slot; 409 `invalid_transition` if the model's status does not allow it."""
    version = check_version(version)
    status = check_status(status, list(TRANSITIONS))
    actor = check_actor(actor)
    reason = check_reason(reason)
    with transaction.atomic():
        audit_lock()
        return status_set_locked(version=version, status=status, actor=actor, reason=reason)


def status_set_locked(*, version: int, status: str, actor: str, reason: str) -> ModelVersion:
    """model_status_set's work, for a caller already inside a transaction holding the audit lock."""
    wanted = Q(version=version) | Q(status=status) if status in SLOTS else Q(version=version)
    # Row locks in ascending version order, as every status change takes them; the artifact
    # (hundreds of kilobytes) is not needed to change a status.
    rows = list(ModelVersion.objects.select_for_update().defer("artifact").filter(wanted).order_by("version"))
    model = next((row for row in rows if row.version == version), None)
    if model is None:
        raise NotFound(
            f"There is no model version {version}.",
            code="model_not_found",
            errors=[FieldError("version", "No model has this version.", "model_not_found")],
        )
    promote = getattr(model, TRANSITIONS[status])
    if not can_proceed(promote):
        raise Conflict(
            f"Model v{version} is {model.status}: it cannot become {status}.",
            code="invalid_transition",
            errors=[FieldError("status", f"The model is {model.status}.", "invalid_transition")],
            status=model.status,
        )
    now = timezone.now()
    for holder in rows:
        if holder.pk != model.pk and holder.status == status:
            _apply(holder, holder.retire, now=now, actor=actor, reason=f"{reason} (replaced by v{version})")
    _apply(model, promote, now=now, actor=actor, reason=reason)
    return model


def _apply(model: ModelVersion, transition, *, now, actor: str, reason: str) -> None:
    before = model.status
    transition()
    model.status_changed_at = now
    model.save(update_fields=["status", "status_changed_at"])
    audit_record(
        action="fraud.model_status_changed",
        target_type=AUDIT_TARGET,
        target_id=model.version,
        before={"version": model.version, "status": before},
        after={"version": model.version, "status": model.status},
        reason=reason,
        actor=actor,
    )
