"""Training a tenant's fraud model from its labelled assessments.

The rows are the feature vectors stored when each movement was scored (what was known then,
never what came later) and the labels reviewers, chargebacks or the synthetic generator gave
them. A gradient-boosted tree ensemble is fitted on a stratified part and judged on the rest:
ROC AUC and average precision over every threshold, then precision, recall and F1 at the one
threshold that maximises F1 on the held-out part, which becomes the model's threshold.

Everything slow (reading, fitting, serializing) happens before the transaction; the transaction
only numbers the version, stores the artifact, moves it into its status and audits — so the
tenant's audit chain is held for milliseconds, not for the fit.
"""

from __future__ import annotations

import hashlib
import io
import time

import joblib
import numpy as np
import sklearn
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score
from sklearn.model_selection import train_test_split

from finfactory.audit.services import audit_lock, audit_record
from finfactory.errors import FieldError, InvalidInput

from .artifacts import artifact_signature
from .features import FEATURES
from .model_lifecycle import AUDIT_TARGET, check_actor, check_status, status_set_locked
from .models import Assessment, ModelStatus, ModelVersion

MIN_PER_CLASS = 20
THRESHOLD_RANGE = (0.05, 0.95)
ALGORITHM = f"sklearn.ensemble.GradientBoostingClassifier {sklearn.__version__}"
# Shallow trees with row subsampling: about a second per 10,000 rows on one core, and little
# overfitting on the few hundred frauds a tenant has.
HYPER_PARAMETERS = {"n_estimators": 150, "max_depth": 3, "learning_rate": 0.1, "subsample": 0.8}
TRAINABLE_STATUSES = (ModelStatus.CANDIDATE, ModelStatus.SHADOW, ModelStatus.ACTIVE)


def _refuse(message: str, code: str) -> InvalidInput:
    return InvalidInput(message, code="not_enough_labels", errors=[FieldError("label", message, code)])


def _labelled(*, include_synthetic: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """(features, labels, rows skipped): rows whose vector is not FEATURES-long were scored
    under another feature set and cannot be read by this one."""
    rows = Assessment.objects.filter(label__isnull=False)
    if not include_synthetic:
        rows = rows.filter(synthetic=False)
    width = len(FEATURES)
    vectors, labels, skipped = [], [], 0
    for vector, label in rows.order_by("id").values_list("features", "label").iterator(chunk_size=5_000):
        if isinstance(vector, list) and len(vector) == width:
            vectors.append(vector)
            labels.append(label)
        else:
            skipped += 1
    return np.asarray(vectors, dtype=np.float64).reshape(-1, width), np.asarray(labels, dtype=np.int8), skipped


def _require_enough(labels: np.ndarray, *, include_synthetic: bool) -> None:
    minimum = settings.FRAUD_TRAIN_MIN_ROWS
    fraud = int(labels.sum())
    legitimate = len(labels) - fraud
    kind = "labelled movements" if include_synthetic else "labelled real movements (synthetic ones excluded)"
    if len(labels) < minimum:
        raise _refuse(f"{len(labels)} {kind}; training needs at least {minimum}.", "not_enough_labels")
    if fraud < MIN_PER_CLASS:
        raise _refuse(f"{fraud} fraudulent {kind}; training needs at least {MIN_PER_CLASS}.", "not_enough_fraud_labels")
    if legitimate < MIN_PER_CLASS:
        raise _refuse(
            f"{legitimate} legitimate {kind}; training needs at least {MIN_PER_CLASS}.", "not_enough_legitimate_labels"
        )


def _best_threshold(y_true: np.ndarray, probability: np.ndarray) -> float:
    precision, recall, thresholds = precision_recall_curve(y_true, probability)
    precision, recall = precision[:-1], recall[:-1]  # the last point has no threshold
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
    return round(float(np.clip(thresholds[int(np.argmax(f1))], *THRESHOLD_RANGE)), 4)


def _at_threshold(y_true: np.ndarray, probability: np.ndarray, threshold: float) -> dict[str, float]:
    flagged = probability >= threshold
    true_positives = int(np.sum(flagged & (y_true == 1)))
    precision = true_positives / int(flagged.sum()) if flagged.any() else 0.0
    recall = true_positives / int(y_true.sum())
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _fit(features: np.ndarray, labels: np.ndarray, *, seed: int, test_size: float) -> tuple:
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=test_size, stratify=labels, random_state=seed
    )
    estimator = GradientBoostingClassifier(**HYPER_PARAMETERS, random_state=seed)
    started = time.perf_counter()
    estimator.fit(x_train, y_train)
    seconds = time.perf_counter() - started
    probability = estimator.predict_proba(x_test)[:, 1]
    threshold = _best_threshold(y_test, probability)
    metrics = {
        "roc_auc": roc_auc_score(y_test, probability),
        "average_precision": average_precision_score(y_test, probability),
        **_at_threshold(y_test, probability, threshold),
        "n_train": len(y_train),
        "n_test": len(y_test),
        "positives_train": int(y_train.sum()),
        "positives_test": int(y_test.sum()),
        "training_seconds": seconds,
    }
    # The typical legitimate movement: explanations replace one feature at a time by its value
    # here and report how much the fraud probability falls.
    baseline = np.median(x_train[y_train == 0], axis=0)
    return (
        estimator,
        _rounded(metrics),
        threshold,
        {name: round(float(v), 4) for name, v in zip(FEATURES, baseline, strict=True)},
    )


def _rounded(values: dict) -> dict:
    return {key: round(float(v), 4) if isinstance(v, float | np.floating) else int(v) for key, v in values.items()}


def _version_lock() -> None:
    """Serializes numbering within the tenant even where the audit lock is not taken first."""
    raw = hashlib.sha256(f"fraud:model_version:{connection.schema_name}".encode()).digest()[:8]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(raw, "big", signed=True)])


def model_train(
    *, include_synthetic: bool, status: str = "candidate", actor: str, seed: int = 7, test_size: float = 0.25
) -> ModelVersion:
    """Train, evaluate and store a new model version of the current tenant, in `status`
    (candidate, shadow or active). Refuses with 400 `not_enough_labels`, writing nothing, when the
    labelled rows are too few (FRAUD_TRAIN_MIN_ROWS) or either class has fewer than 20."""
    status = check_status(status, list(TRAINABLE_STATUSES))
    actor = check_actor(actor)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidInput("seed: An integer.", errors=[FieldError("seed", "An integer.", "invalid_type")])
    if isinstance(test_size, bool) or not isinstance(test_size, int | float) or not 0.1 <= test_size <= 0.5:
        raise InvalidInput(
            "test_size: A fraction from 0.1 to 0.5.",
            errors=[FieldError("test_size", "A fraction from 0.1 to 0.5.", "out_of_range")],
        )
    features, labels, skipped = _labelled(include_synthetic=include_synthetic)
    _require_enough(labels, include_synthetic=include_synthetic)
    estimator, metrics, threshold, baseline = _fit(features, labels, seed=seed, test_size=test_size)
    if skipped:
        metrics["rows_skipped"] = skipped
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer, compress=3)
    artifact = buffer.getvalue()
    params = {**HYPER_PARAMETERS, "random_state": seed, "test_size": test_size, "baseline": baseline}

    with transaction.atomic():
        audit_lock()
        _version_lock()
        version = (ModelVersion.objects.aggregate(last=Max("version"))["last"] or 0) + 1
        model = ModelVersion.objects.create(
            version=version,
            algorithm=ALGORITHM,
            feature_names=list(FEATURES),
            params=params,
            metrics=metrics,
            threshold=threshold,
            artifact=artifact,
            artifact_signature=artifact_signature(artifact),
            training_rows=len(labels),
            trained_by=actor,
        )
        audit_record(
            action="fraud.model_trained",
            target_type=AUDIT_TARGET,
            target_id=version,
            after={
                **metrics,
                "threshold": model.threshold,
                "status": model.status,
                "training_rows": model.training_rows,
                "include_synthetic": include_synthetic,
                "artifact_signature": model.artifact_signature,
            },
            reason=f"Trained on {len(labels)} labelled movements"
            + (" (synthetic included)" if include_synthetic else ""),
            actor=actor,
        )
        if status != ModelStatus.CANDIDATE:
            model = status_set_locked(version=version, status=status, actor=actor, reason=f"Trained as {status}")
    return model
