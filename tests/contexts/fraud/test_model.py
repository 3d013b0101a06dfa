"""The fraud model: synthetic history, training, the lifecycle of versions, and scoring with the
models in force (artifact verification, predictions and their explanations), plus the commands."""

import hashlib
import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone
from sklearn.metrics import roc_auc_score

from contexts.fraud.artifacts import artifact_verified
from contexts.fraud.features import FEATURES, FeatureInputs, feature_vector
from contexts.fraud.model_lifecycle import model_status_set
from contexts.fraud.models import Assessment, KnownCustomer, KnownDevice, KnownWallet, ModelStatus, ModelVersion
from contexts.fraud.scoring_model import model_warm, models_forget, models_in_force
from contexts.fraud.synthetic import synthetic_history_generate
from contexts.fraud.training import model_train
from finfactory.audit.models import AuditRecord
from finfactory.errors import Conflict, Forbidden, InvalidInput, NotFound
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_public_schema, in_tenant
from tests.factories import provision_tenant

MOVEMENTS = 6_000
FRAUD_RATE = 0.06
ACTOR = "system:test"


@pytest.fixture(scope="module")
def module_tenant(django_db_setup, django_db_blocker):
    """One tenant with a generated history (seed 7) and one trained candidate model (v1), made
    once for the module inside a transaction rolled back when it ends; each test runs in a
    savepoint of it (the `db` fixture), so nothing is committed."""
    with django_db_blocker.unblock(), transaction.atomic():
        tenant = provision_tenant("frd").tenant
        with in_tenant(tenant), acting_as(ACTOR):
            generated = synthetic_history_generate(movements=MOVEMENTS, fraud_rate=FRAUD_RATE, seed=7)
            trained = model_train(include_synthetic=True, actor=ACTOR)
        connection.set_schema_to_public()
        yield SimpleNamespace(tenant=tenant, generated=generated, version=trained.version)
        connection.set_schema_to_public()
        transaction.set_rollback(True)


@pytest.fixture
def fraud(db, module_tenant):
    """Run the test in the module's tenant. The process-wide model cache knows nothing of
    rolled-back savepoints (a version number comes back with other bytes), so it starts empty."""
    models_forget()
    with in_tenant(module_tenant.tenant), acting_as(ACTOR, request_id="req_fraud_model_test"):
        yield module_tenant
    connection.set_schema_to_public()
    models_forget()


def writes() -> dict[str, int]:
    return {
        "assessments": Assessment.objects.count(),
        "customers": KnownCustomer.objects.count(),
        "wallets": KnownWallet.objects.count(),
        "models": ModelVersion.objects.count(),
        "audit": AuditRecord.objects.count(),
    }


def status_changes() -> list[tuple[str, str | None, str | None, str]]:
    return [
        (target, before["status"], after["status"], actor)
        for target, before, after, actor in AuditRecord.objects.filter(action="fraud.model_status_changed")
        .order_by("id")
        .values_list("target_id", "before", "after", "actor")
    ]


def statuses() -> dict[int, str]:
    return dict(ModelVersion.objects.order_by("version").values_list("version", "status"))


def vector(**overrides) -> list[float]:
    """A day-time QR payment of an established customer, from a known phone to a known shop."""
    fields = {
        "amount": 25_000,
        "movement_type": "qr_payment",
        "channel": "app",
        "occurred_at": datetime(2025, 3, 5, 4, 30, tzinfo=UTC),  # 12:30 in Manila
        "customer_avg_amount": 30_000.0,
        "customer_count_1h": 0,
        "customer_amount_1h": 0,
        "customer_count_24h": 1,
        "new_counterparty": False,
        "device_given": True,
        "new_device": False,
        "geo_mismatch": False,
        "customer_age_days": 400.0,
        "kyc_level": "full",
        "wallet_age_days": 399.0,
        "available_balance": 300_000,
        "declines_30d": 0,
    }
    return feature_vector(FeatureInputs(**{**fields, **overrides}))


# --- synthetic history ---------------------------------------------------------------------------


def test_generated_history_is_labelled_synthetic_and_reads_like_the_scoring(fraud):
    counts = fraud.generated

    assert counts == {"customers": 150, "wallets": 150, "movements": MOVEMENTS, "fraudulent": 360}
    rows = Assessment.objects.filter(synthetic=True)
    assert rows.count() == MOVEMENTS and rows.filter(label=True).count() == 360
    assert rows.exclude(label_source="synthetic").count() == 0
    assert KnownCustomer.objects.filter(synthetic=True).count() == 150
    assert KnownWallet.objects.filter(synthetic=True, currency="PHP").count() == 150
    assert KnownDevice.objects.count() >= 150
    sample = rows.order_by("id")[:500]
    for row in sample:
        assert row.reference.startswith("syn-")
        assert row.fingerprint == hashlib.sha256(row.reference.encode()).hexdigest()
        assert len(row.features) == len(FEATURES)
        assert (row.currency, row.score, row.reasons) == ("PHP", 0, [])
    times = list(rows.order_by("id").values_list("occurred_at", flat=True))
    assert times == sorted(times)  # written in time order
    assert timezone.now() - timedelta(days=61) < times[0] and times[-1] < timezone.now()
    decisions = set(rows.values_list("decision", flat=True))
    assert decisions <= {"approve", "decline"}  # declined attempts are written, so declines_30d is what the db says


def test_the_same_seed_gives_the_same_labels_and_features(fraud):
    def generate() -> list[tuple]:
        after = Assessment.objects.order_by("-id").values_list("id", flat=True).first()
        synthetic_history_generate(movements=300, fraud_rate=0.1, seed=3)
        return list(
            Assessment.objects.filter(id__gt=after).order_by("id").values_list("label", "features", "movement_type")
        )

    first, second = generate(), generate()

    assert first == second
    assert sum(label for label, _, _ in first) == 30


def test_synthetic_history_is_refused_where_not_allowed_and_writes_nothing(fraud, settings):
    settings.FRAUD_SYNTHETIC_DATA_ALLOWED = False
    before = writes()

    with pytest.raises(Forbidden) as refused:
        synthetic_history_generate(movements=100)

    assert refused.value.code == "synthetic_data_not_allowed"
    assert writes() == before


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"movements": 0}, "movements"),
        ({"movements": 1_000_001}, "movements"),
        ({"movements": "100"}, "movements"),
        ({"movements": 100, "fraud_rate": 0}, "fraud_rate"),
        ({"movements": 100, "fraud_rate": 0.6}, "fraud_rate"),
        ({"movements": 100, "customers": 0}, "customers"),
        ({"movements": 100, "seed": 1.5}, "seed"),
    ],
)
def test_synthetic_history_arguments_are_checked(fraud, arguments, field):
    before = writes()

    with pytest.raises(InvalidInput) as refused:
        synthetic_history_generate(**arguments)

    assert [error.field for error in refused.value.errors] == [field]
    assert writes() == before


def test_synthetic_history_needs_a_tenant(fraud):
    with in_public_schema(), pytest.raises(InvalidInput) as refused:
        synthetic_history_generate(movements=10)

    assert refused.value.code == "tenant_required"


# --- training ------------------------------------------------------------------------------------


def test_training_stores_a_model_that_separates_fraud_on_new_history(fraud):
    model = ModelVersion.objects.get(version=fraud.version)

    # The stored numbers: held-out split of the seed-7 history.
    assert model.status == ModelStatus.CANDIDATE
    assert model.metrics["roc_auc"] >= 0.9, model.metrics
    assert set(model.metrics) >= {
        "roc_auc", "average_precision", "precision", "recall", "f1",
        "n_train", "n_test", "positives_train", "positives_test", "training_seconds",
    }  # fmt: skip
    assert model.metrics["n_train"] + model.metrics["n_test"] == model.training_rows == MOVEMENTS
    assert model.metrics["positives_train"] + model.metrics["positives_test"] == 360
    assert 0.05 <= model.threshold <= 0.95
    assert model.feature_names == list(FEATURES)
    assert set(model.params["baseline"]) == set(FEATURES)
    assert model.params["n_estimators"] == 150 and model.algorithm.startswith("sklearn.ensemble.Gradient")
    assert artifact_verified(bytes(model.artifact), model.artifact_signature)
    ((after, actor),) = AuditRecord.objects.filter(action="fraud.model_trained").values_list("after", "actor")
    assert (after["roc_auc"], after["status"], actor) == (model.metrics["roc_auc"], "candidate", ACTOR)

    # And independently: customers the model never saw (another seed), scored through the cache.
    last = Assessment.objects.order_by("-id").values_list("id", flat=True).first()
    synthetic_history_generate(movements=2_000, fraud_rate=FRAUD_RATE, seed=11)
    held_out = list(Assessment.objects.filter(id__gt=last).values_list("features", "label"))
    model_status_set(version=model.version, status="active", actor=ACTOR, reason="evaluate")
    active, shadow = models_in_force()
    probabilities = [active.predict(features).probability for features, _ in held_out]

    assert shadow is None and active.version == model.version
    assert roc_auc_score([label for _, label in held_out], probabilities) >= 0.9


def test_training_refuses_too_few_labels_and_writes_nothing(fraud, settings):
    before = writes()

    settings.FRAUD_TRAIN_MIN_ROWS = MOVEMENTS + 1
    with pytest.raises(InvalidInput) as too_few:
        model_train(include_synthetic=True, actor=ACTOR)
    settings.FRAUD_TRAIN_MIN_ROWS = 200
    with pytest.raises(InvalidInput) as no_real_labels:
        model_train(include_synthetic=False, actor=ACTOR)

    assert (too_few.value.code, too_few.value.errors[0].code) == ("not_enough_labels", "not_enough_labels")
    assert "6000" in too_few.value.detail
    assert no_real_labels.value.code == "not_enough_labels"
    assert writes() == before


def test_training_refuses_a_single_class(fraud):
    Assessment.objects.filter(label=True).update(label=False)
    before = writes()

    with pytest.raises(InvalidInput) as refused:
        model_train(include_synthetic=True, actor=ACTOR)

    assert (refused.value.code, refused.value.errors[0].field, refused.value.errors[0].code) == (
        "not_enough_labels", "label", "not_enough_fraud_labels",
    )  # fmt: skip
    assert writes() == before


def test_training_arguments_are_checked(fraud):
    with pytest.raises(InvalidInput) as bad_status:
        model_train(include_synthetic=True, status="retired", actor=ACTOR)
    with pytest.raises(InvalidInput) as no_actor:
        model_train(include_synthetic=True, actor=" ")

    assert bad_status.value.errors[0].field == "status"
    assert no_actor.value.errors[0].field == "actor"


# --- lifecycle -----------------------------------------------------------------------------------


def test_activating_and_shadowing_retire_the_previous_holder(fraud):
    second = model_train(include_synthetic=True, actor=ACTOR, seed=8)
    assert second.version == fraud.version + 1 and second.status == ModelStatus.CANDIDATE
    v1, v2 = fraud.version, second.version

    model_status_set(version=v1, status="active", actor=ACTOR, reason="first model")
    model_status_set(version=v2, status="shadow", actor=ACTOR, reason="compare with v1")
    assert statuses() == {v1: "active", v2: "shadow"}
    assert [m.version if m else None for m in models_in_force()] == [v1, v2]

    promoted = model_status_set(version=v2, status="active", actor=ACTOR, reason="v2 beats v1 in shadow")

    assert promoted.status == ModelStatus.ACTIVE and promoted.status_changed_at is not None
    assert statuses() == {v1: "retired", v2: "active"}  # and the shadow slot is empty
    assert [m.version if m else None for m in models_in_force()] == [v2, None]
    assert status_changes() == [
        (str(v1), "candidate", "active", ACTOR),
        (str(v2), "candidate", "shadow", ACTOR),
        (str(v1), "active", "retired", ACTOR),
        (str(v2), "shadow", "active", ACTOR),
    ]
    reasons = list(AuditRecord.objects.filter(action="fraud.model_status_changed").values_list("reason", flat=True))
    assert f"v2 beats v1 in shadow (replaced by v{v2})" in reasons


def test_shadowing_a_new_model_retires_the_shadow_one(fraud):
    second = model_train(include_synthetic=True, status="shadow", actor=ACTOR, seed=8)
    assert second.status == ModelStatus.SHADOW

    model_status_set(version=fraud.version, status="shadow", actor=ACTOR, reason="back to v1")

    assert statuses() == {fraud.version: "shadow", second.version: "retired"}


def test_illegal_or_unknown_status_changes_are_refused(fraud):
    model_status_set(version=fraud.version, status="retired", actor=ACTOR, reason="superseded")
    before = writes()

    with pytest.raises(Conflict) as again:
        model_status_set(version=fraud.version, status="retired", actor=ACTOR, reason="twice")
    with pytest.raises(NotFound) as unknown:
        model_status_set(version=99, status="active", actor=ACTOR, reason="no such model")
    with pytest.raises(InvalidInput) as no_reason:
        model_status_set(version=fraud.version, status="active", actor=ACTOR, reason="  ")
    with pytest.raises(InvalidInput) as to_candidate:
        model_status_set(version=fraud.version, status="candidate", actor=ACTOR, reason="undo")

    assert (again.value.code, again.value.extra["status"]) == ("invalid_transition", "retired")
    assert unknown.value.code == "model_not_found"
    assert (no_reason.value.code, no_reason.value.errors[0].field) == ("reason_required", "reason")
    assert to_candidate.value.errors[0].field == "status"
    assert writes() == before


# --- scoring with the models in force ------------------------------------------------------------


def test_a_tampered_artifact_is_not_loaded(fraud):
    model_status_set(version=fraud.version, status="active", actor=ACTOR, reason="score")
    rows = ModelVersion.objects.filter(version=fraud.version)
    assert models_in_force()[0] is not None
    artifact, signature = rows.values_list("artifact", "artifact_signature").get()

    rows.update(artifact_signature="0" * 64)
    assert models_in_force() == (None, None)

    models_forget()
    tampered = bytearray(artifact)
    tampered[len(tampered) // 2] ^= 0xFF
    rows.update(artifact=bytes(tampered), artifact_signature=signature)
    assert models_in_force() == (None, None)

    # Whoever can write the database but lacks the signing key cannot plant another artifact:
    # a plain sha256 of the new bytes does not sign them.
    models_forget()
    rows.update(artifact=bytes(tampered), artifact_signature=hashlib.sha256(bytes(tampered)).hexdigest())
    assert models_in_force() == (None, None)

    models_forget()
    rows.update(artifact=bytes(artifact), artifact_signature=signature)
    assert models_in_force()[0].version == fraud.version


def test_a_model_trained_on_other_features_is_not_loaded(fraud):
    model_status_set(version=fraud.version, status="active", actor=ACTOR, reason="score")
    ModelVersion.objects.filter(version=fraud.version).update(feature_names=[*FEATURES, "new_feature"])

    assert models_in_force() == (None, None)


def test_prediction_scores_and_explains_a_movement(fraud):
    model_status_set(version=fraud.version, status="active", actor=ACTOR, reason="score")
    active, _ = model_warm()
    takeover = vector(
        movement_type="transfer",
        amount=950_000,
        occurred_at=datetime(2025, 3, 5, 18, 40, tzinfo=UTC),  # 02:40 in Manila
        new_counterparty=True,
        new_device=True,
        geo_mismatch=True,
        available_balance=1_000_000,
        customer_count_1h=1,
        customer_amount_1h=20_000,
    )

    risky, usual = active.predict(takeover), active.predict(vector())

    assert risky.score > usual.score
    for prediction in (risky, usual):
        assert prediction.version == fraud.version
        assert prediction.score == round(prediction.probability * 1000) and 0 <= prediction.score <= 1000
        assert len(prediction.top_features) <= 3
        assert {item["feature"] for item in prediction.top_features} <= set(FEATURES)
        contributions = [item["contribution"] for item in prediction.top_features]
        assert all(c > 0 for c in contributions) and contributions == sorted(contributions, reverse=True)
    assert risky.top_features, risky
    assert active is models_in_force()[0]  # cached: loaded once per process
    with pytest.raises(ValueError):
        active.predict([1.0, 2.0])


# --- commands ------------------------------------------------------------------------------------


def test_the_commands_generate_train_list_and_promote(fraud):
    slug = fraud.tenant.slug
    out = io.StringIO()

    call_command("fraud_generate", "--tenant", slug, "--movements", "400", "--seed", "5", stdout=out)
    call_command("fraud_train", "--tenant", slug, "--synthetic", "--status", "shadow", stdout=out)
    call_command("fraud_model", "--tenant", slug, "--version", "1", "--status", "active", "--reason", "go", stdout=out)
    call_command("fraud_model", "--tenant", slug, "--list", stdout=out)

    text = out.getvalue()
    assert "wrote 400 synthetic movements, 20 fraudulent (5.0%)" in text
    assert "model v2 trained, status shadow" in text and "ROC AUC 0." in text and "F1 0." in text
    assert f"{slug}: model v1 is now active" in text
    assert "2 model version(s)" in text and "v2    shadow" in text and "v1    active" in text
    assert statuses() == {1: "active", 2: "shadow"}
    assert ModelVersion.objects.get(version=2).training_rows == MOVEMENTS + 400
    assert AuditRecord.objects.filter(action="fraud.model_status_changed", actor="operator:cli").count() == 2
    assert connection.schema_name == fraud.tenant.schema_name  # the commands gave the tenant back


def test_the_commands_fail_with_the_refusal(fraud, settings):
    slug = fraud.tenant.slug
    model_status_set(version=fraud.version, status="retired", actor=ACTOR, reason="superseded")
    settings.FRAUD_TRAIN_MIN_ROWS = 10**6
    before = writes()

    with pytest.raises(CommandError, match="training needs at least 1000000"):
        call_command("fraud_train", "--tenant", slug, "--synthetic", stdout=io.StringIO())
    with pytest.raises(CommandError, match="invalid_transition"):
        call_command("fraud_model", "--tenant", slug, "--version", "1", "--status", "retired", "--reason", "x")
    with pytest.raises(CommandError, match="reason_required"):
        call_command("fraud_model", "--tenant", slug, "--version", "1", "--status", "active")
    with pytest.raises(CommandError, match="no tenant"):
        call_command("fraud_generate", "--tenant", "no-such-tenant", "--movements", "10")
    settings.FRAUD_SYNTHETIC_DATA_ALLOWED = False
    with pytest.raises(CommandError, match="synthetic_data_not_allowed"):
        call_command("fraud_generate", "--tenant", slug, "--movements", "10")

    assert writes() == before
