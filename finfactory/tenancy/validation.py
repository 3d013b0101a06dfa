"""Tenant slug rules: lowercase letters, digits and hyphens, 3-40 characters, no reserved name."""

import re

from finfactory.errors import FieldError, InvalidInput

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")
RESERVED_SLUGS = frozenset(
    {
        "public",
        "information-schema",
        "information_schema",
        "tenant-template",
        "template",
        "default",
        "admin",
        "api",
        "platform",
        "postgres",
        "root",
        "static",
        "system",
        "www",
    }
)


def slug_errors(slug: object) -> list[FieldError]:
    if not isinstance(slug, str) or not slug:
        return [FieldError("slug", "A slug is required.", "required")]
    if not SLUG_PATTERN.match(slug):
        return [
            FieldError(
                "slug",
                "Use 3-40 lowercase letters, digits or hyphens, starting and ending with a letter or digit.",
                "invalid_slug",
            )
        ]
    if "--" in slug:
        return [FieldError("slug", "Consecutive hyphens are not allowed.", "invalid_slug")]
    if slug in RESERVED_SLUGS or slug.startswith(("pg-", "pg_")):
        return [FieldError("slug", f"{slug!r} is reserved.", "reserved_slug")]
    return []


def validate_slug(slug: object) -> str:
    errors = slug_errors(slug)
    if errors:
        raise InvalidInput("The tenant slug is not valid.", code=errors[0].code, errors=errors)
    return slug  # type: ignore[return-value]


def schema_name_for(slug: str) -> str:
    """PostgreSQL schema of a tenant: `t_` + slug with underscores (never a reserved name)."""
    return "t_" + slug.replace("-", "_")
