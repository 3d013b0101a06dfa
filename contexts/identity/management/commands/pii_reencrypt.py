"""Re-encrypt personal data under the newest ENCRYPTION_KEYS key, in every tenant, without downtime.

Rotation: prepend the new key to ENCRYPTION_KEYS and deploy (new writes use it, every listed key
still decrypts), run this command, then drop the old key in a later deploy. The command walks
every model with encrypted columns (finfactory.pii) in batches of --batch-size rows, each batch
its own short transaction holding only that batch's row locks, so reads and writes go on
meanwhile. Values already under the newest key are skipped: an interrupted run is resumed by
running it again. --reindex also recomputes the blind indexes (after BLIND_INDEX_KEY changed).

    python manage.py pii_reencrypt [--tenant SLUG] [--batch-size 500] [--reindex] [--json]
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from finfactory.pii import PersonalDataError, RotationCount, encrypted_models, reencrypt_rows, reindex_rows
from finfactory.request_context import acting_as
from finfactory.tenancy.context import UnknownTenant, for_each_tenant, in_public_schema, in_tenant, tenant_get


class Command(BaseCommand):
    help = "Re-encrypt every encrypted personal-data column of every tenant under the newest key."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Only this tenant (slug or schema name).")
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")
        parser.add_argument("--reindex", action="store_true", help="Also recompute the blind indexes.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the counts as one JSON object.")

    def handle(self, *args, tenant=None, batch_size=500, reindex=False, as_json=False, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        tenant_models, public_models = _models_by_schema()
        report: dict[str, dict[str, dict[str, int]]] = {}

        def run(models) -> dict[str, dict[str, int]]:
            counts = {}
            for model in models:
                count = reencrypt_rows(model, batch_size=batch_size)
                entry = _as_dict(count)
                if reindex:
                    entry["reindexed"] = reindex_rows(model, batch_size=batch_size).rows_changed
                counts[model._meta.label] = entry
            return counts

        try:
            with acting_as("system:pii_reencrypt"):
                if tenant:
                    try:
                        chosen = tenant_get(tenant)
                    except UnknownTenant as error:
                        raise CommandError(str(error)) from None
                    with in_tenant(chosen):
                        report[chosen.slug] = run(tenant_models)
                else:
                    report.update(for_each_tenant(lambda t: run(tenant_models)))
                    if public_models:
                        with in_public_schema():
                            report["(public)"] = run(public_models)
        except PersonalDataError as error:
            raise CommandError(str(error)) from None
        self._print(report, as_json=as_json)

    def _print(self, report, *, as_json: bool) -> None:
        total = RotationCount()
        for counts in report.values():
            for entry in counts.values():
                total = total + RotationCount(entry["rows"], entry["rows_changed"], entry["values_changed"])
        if as_json:
            self.stdout.write(json.dumps({"tenants": report, "total": _as_dict(total)}, sort_keys=True))
            return
        for slug, counts in report.items():
            for label, entry in counts.items():
                extra = f", {entry['reindexed']} reindexed" if "reindexed" in entry else ""
                self.stdout.write(
                    f"{slug} {label}: {entry['rows']} rows, {entry['rows_changed']} re-encrypted "
                    f"({entry['values_changed']} values){extra}"
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(report)} schema(s): {total.rows} rows, {total.rows_changed} re-encrypted "
                f"({total.values_changed} values) under the newest of {len(settings.ENCRYPTION_KEYS)} key(s)"
            )
        )


def _as_dict(count: RotationCount) -> dict[str, int]:
    return {"rows": count.rows, "rows_changed": count.rows_changed, "values_changed": count.values_changed}


def _models_by_schema():
    from django.apps import apps

    tenant_apps, shared_apps = set(settings.TENANT_APPS), set(settings.SHARED_APPS)
    tenant_models, public_models = [], []
    for model in encrypted_models():
        name = apps.get_app_config(model._meta.app_label).name
        if name in tenant_apps:
            tenant_models.append(model)
        if name in shared_apps:
            public_models.append(model)
    return tenant_models, public_models
