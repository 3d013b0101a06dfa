"""Signing model artifacts. A joblib artifact is code (unpickling runs it), so a process loads
only bytes signed with the deployment's key: write access to the database alone cannot plant a
model. HMAC-SHA256 under FRAUD_MODEL_SIGNING_KEY (derived from SECRET_KEY unless set)."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def artifact_signature(artifact: bytes) -> str:
    return hmac.new(settings.FRAUD_MODEL_SIGNING_KEY.encode(), artifact, hashlib.sha256).hexdigest()


def artifact_verified(artifact: bytes, signature: str) -> bool:
    return hmac.compare_digest(artifact_signature(artifact), signature)
