"""No model has a relation (FK, one-to-one, many-to-many) into another context's app.

import-linter cannot see string model references such as ForeignKey("ledger.Account"), so the
relations are walked on the model classes themselves.
"""

from django.apps import apps
from django.apps.registry import Apps
from django.db import models


def owner(model) -> str:
    """The context (`contexts.<name>`) or kernel package (`finfactory.<name>`) a model belongs to."""
    parts = model.__module__.split(".")
    if parts[0] in ("contexts", "finfactory") and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def cross_context_relations(model_classes) -> list[str]:
    problems = []
    for model in model_classes:
        source = owner(model)
        for field in model._meta.get_fields(include_hidden=True):
            if not field.is_relation or field.auto_created or field.related_model is None:
                continue
            target = owner(field.related_model)
            crosses_out_of_a_context = source.startswith("contexts.") and target != source
            crosses_into_a_context = target.startswith("contexts.") and target != source
            if crosses_out_of_a_context or crosses_into_a_context:
                problems.append(f"{model._meta.label}.{field.name} -> {field.related_model._meta.label}")
    return problems


def test_no_installed_model_relates_to_another_contexts_model():
    assert cross_context_relations(apps.get_models(include_auto_created=True)) == []


def _model(registry: Apps, module: str, app_label: str, name: str, **fields):
    meta = type("Meta", (), {"apps": registry, "app_label": app_label})
    return type(name, (models.Model,), {"__module__": module, "Meta": meta, **fields})


def test_the_check_reports_a_foreign_key_into_another_context():
    registry = Apps([])
    _model(registry, "contexts.ledger.models", "ledger", "Account")
    wallet = _model(
        registry,
        "contexts.wallets.models",
        "wallets",
        "Wallet",
        account=models.ForeignKey("ledger.Account", on_delete=models.PROTECT),
    )

    assert cross_context_relations([wallet]) == ["wallets.Wallet.account -> ledger.Account"]


def test_the_check_reports_kernel_or_many_to_many_relations_into_a_context():
    registry = Apps([])
    _model(registry, "contexts.identity.models", "identity", "Customer")
    tagged = _model(
        registry,
        "finfactory.audit.models",
        "audit",
        "Entry",
        customers=models.ManyToManyField("identity.Customer"),
    )

    assert cross_context_relations([tagged]) == ["audit.Entry.customers -> identity.Customer"]


def test_the_check_allows_relations_inside_one_context():
    registry = Apps([])
    account = _model(registry, "contexts.ledger.models", "ledger", "Account")
    posting = _model(
        registry,
        "contexts.ledger.models",
        "ledger",
        "Posting",
        account=models.ForeignKey(account, on_delete=models.PROTECT),
    )

    assert cross_context_relations([posting]) == []
