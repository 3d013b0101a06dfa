"""The fraud models in force, loaded once per process and kept in memory for the scoring path.

Each call asks the database one small question — which versions are active and shadow, with
their artifact's signature — and answers from a cache keyed by (schema, version, signature):
tenants each have their own models, and a changed artifact is a different key. The artifact itself
is fetched only on a miss, and unpickled only after its signature checked out under the
deployment's key (artifacts.py: joblib.load runs code from the bytes it is given). A model
trained on other features than FEATURES is not loaded either. A model that fails is remembered
for a while, so a bad row does not cost a blob fetch on every movement.

Explanations are by occlusion: the movement is scored again with each feature in turn replaced
by its value in the typical legitimate movement (the training baseline); what the probability
loses is that feature's contribution. All of it is one predict_proba call on one small array.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import joblib
import numpy as np
import structlog
from django.db import connection

from .artifacts import artifact_verified
from .features import FEATURES
from .models import ModelStatus, ModelVersion

logger = structlog.get_logger(__name__)

MAX_CACHED = 64
RETRY_FAILED_SECONDS = 60.0
TOP_FEATURES = 3

_cache: OrderedDict[tuple[str, int, str], LoadedModel | float] = OrderedDict()  # a float: failed at that time
_lock = threading.Lock()


@dataclass(frozen=True)
class Prediction:
    version: int
    probability: float
    score: int  # 0 to 1000
    top_features: tuple[dict, ...]  # {"feature", "value", "contribution"}, largest contribution first


@dataclass(frozen=True, eq=False)
class LoadedModel:
    version: int
    status: str
    threshold: float
    estimator: object
    baseline: np.ndarray

    def predict(self, vector: list[float]) -> Prediction:
        width = len(FEATURES)
        row = np.asarray(vector, dtype=np.float64)
        if row.shape != (width,):
            raise ValueError(f"a feature vector has {width} values, got {row.shape}")
        # Row 0 is the movement; row i + 1 is the movement with feature i at its baseline.
        batch = np.tile(row, (width + 1, 1))
        columns = np.arange(width)
        batch[columns + 1, columns] = self.baseline
        probabilities = self.estimator.predict_proba(batch)[:, 1]
        probability = float(probabilities[0])
        contributions = probability - probabilities[1:]
        top = []
        for index in np.argsort(-contributions, kind="stable")[:TOP_FEATURES]:
            contribution = round(float(contributions[index]), 4)
            if contribution <= 0:
                break
            top.append({"feature": FEATURES[index], "value": float(row[index]), "contribution": contribution})
        return Prediction(
            version=self.version,
            probability=probability,
            score=round(probability * 1000),
            top_features=tuple(top),
        )


def _load(version: int, signature: str, status: str) -> LoadedModel | None:
    row = (
        ModelVersion.objects.filter(version=version)
        .values_list("artifact", "artifact_signature", "feature_names", "params", "threshold")
        .first()
    )
    if row is None:  # retired and deleted between the two queries
        return None
    artifact, stored_signature, feature_names, params, threshold = row
    artifact = bytes(artifact)
    if stored_signature != signature or not artifact_verified(artifact, stored_signature):
        logger.error(
            "fraud.model_artifact_rejected",
            schema=connection.schema_name,
            version=version,
            sha256=hashlib.sha256(artifact).hexdigest(),
        )
        return None
    if feature_names != list(FEATURES):
        logger.warning("fraud.model_features_differ", schema=connection.schema_name, version=version)
        return None
    estimator = joblib.load(io.BytesIO(artifact))
    baseline_by_name = (params or {}).get("baseline") or {}
    if getattr(estimator, "n_features_in_", None) != len(FEATURES) or set(baseline_by_name) != set(FEATURES):
        logger.warning("fraud.model_unreadable", schema=connection.schema_name, version=version)
        return None
    baseline = np.array([float(baseline_by_name[name]) for name in FEATURES])
    logger.info("fraud.model_loaded", schema=connection.schema_name, version=version, status=status)
    return LoadedModel(version=version, status=status, threshold=threshold, estimator=estimator, baseline=baseline)


def _cached(schema: str, version: int, signature: str, status: str) -> LoadedModel | None:
    key = (schema, version, signature)
    with _lock:
        entry = _cache.get(key)
        if entry is not None:
            _cache.move_to_end(key)
    if isinstance(entry, LoadedModel):
        # The status is the row's now: a shadow model activated keeps its cached estimator.
        return entry if entry.status == status else _restatus(key, entry, status)
    if entry is not None and time.monotonic() - entry < RETRY_FAILED_SECONDS:
        return None
    # Loaded outside the lock: two threads may both load a new model once; both results are equal.
    loaded = _load(version, signature, status)
    with _lock:
        _cache[key] = loaded if loaded is not None else time.monotonic()
        _cache.move_to_end(key)
        while len(_cache) > MAX_CACHED:
            _cache.popitem(last=False)
    return loaded


def _restatus(key: tuple, entry: LoadedModel, status: str) -> LoadedModel:
    moved = LoadedModel(
        version=entry.version,
        status=status,
        threshold=entry.threshold,
        estimator=entry.estimator,
        baseline=entry.baseline,
    )
    with _lock:
        _cache[key] = moved
    return moved


def models_in_force() -> tuple[LoadedModel | None, LoadedModel | None]:
    """(active, shadow) of the current tenant, either None when there is none or it cannot be loaded."""
    schema = connection.schema_name
    rows = ModelVersion.objects.filter(status__in=[ModelStatus.ACTIVE, ModelStatus.SHADOW]).values_list(
        "version", "status", "artifact_signature"
    )
    found: dict[str, LoadedModel | None] = {}
    for version, status, signature in rows:
        found[status] = _cached(schema, version, signature, status)
    return found.get(ModelStatus.ACTIVE), found.get(ModelStatus.SHADOW)


def model_warm() -> tuple[LoadedModel | None, LoadedModel | None]:
    """Load the current tenant's models now (process start, benchmarks) rather than on the first movement."""
    return models_in_force()


def models_forget() -> None:
    """Drop every loaded model of this process (tests; an operator who restored an artifact)."""
    with _lock:
        _cache.clear()
