"""Show a tenant's product configuration, replace its overrides from a YAML file, or upgrade it to
the newest version of its template (contexts/products/templates/)."""

from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from contexts.products.configuration import product_config, product_config_override, product_template_upgrade
from finfactory.errors import PlatformError
from finfactory.request_context import acting_as
from finfactory.tenancy.context import UnknownTenant, in_tenant


class Command(BaseCommand):
    help = (
        "Show a tenant's product configuration (the default), replace its overrides with a YAML "
        "file (--override FILE --reason R; an empty mapping goes back to the template), or take "
        "the newest version of its template, keeping the overrides (--upgrade --reason R)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", required=True)
        parser.add_argument("--show", action="store_true", help="Print the effective configuration (YAML).")
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--override", metavar="FILE.yaml", help="The tenant's overrides, as a whole.")
        action.add_argument("--upgrade", action="store_true", help="Take the template's newest version.")
        parser.add_argument("--reason", help="Why (recorded in the audit trail); required to change anything.")

    def handle(self, *args, tenant: str, show: bool, override: str | None, upgrade: bool, reason, **options):
        if (override or upgrade) and not reason:
            raise CommandError("--reason is required with --override and --upgrade.")
        overrides = self._read(override) if override else None
        try:
            with in_tenant(tenant), acting_as("operator:cli"):
                before = product_config()
                if overrides is not None:
                    config = product_config_override(overrides=overrides, reason=reason)
                elif upgrade:
                    config = product_template_upgrade(reason=reason)
                else:
                    config = before
                self._summary(before, config)
                if show or config is before:
                    self.stdout.write(yaml.safe_dump(config.as_dict(), sort_keys=False, allow_unicode=True))
        except UnknownTenant as exc:
            raise CommandError(str(exc)) from exc
        except PlatformError as exc:
            fields = "".join(f"\n  {error.field}: {error.message} ({error.code})" for error in exc.errors)
            raise CommandError(f"{exc.code}: {exc.detail}{fields}") from exc

    def _read(self, path: str) -> dict:
        try:
            overrides = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        if overrides is None:
            return {}
        if not isinstance(overrides, dict):
            raise CommandError(f"{path} must hold a mapping of overrides (e.g. fees: {{cash_out: …}}).")
        return overrides

    def _summary(self, before, config) -> None:
        self.stdout.write(
            f"# {config.template} template v{config.template_version}, configuration v{config.version}"
            f" ({'changed from v' + str(before.version) if config.version != before.version else 'unchanged'})"
        )
        if config.overrides:
            overrides = yaml.safe_dump(config.overrides_as_dict(), sort_keys=False).rstrip()
            self.stdout.write("# overrides:\n" + "\n".join(f"#   {line}" for line in overrides.splitlines()))
