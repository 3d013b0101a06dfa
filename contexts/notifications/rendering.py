"""Rendering a template: a standalone Django template engine with no loaders of ours and no tag
libraries beyond the built-ins, so a tenant's template cannot include files or load tags. Bodies
are plain text (e-mail included), hence no autoescaping: the variables are ids, codes and
formatted amounts from event payloads, never markup."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.template import Context, Engine

from .default_templates import DEFAULT_TEMPLATES
from .models import Channel, NotificationTemplate

DEFAULT, TENANT = "default", "tenant"


class RenderError(Exception):
    pass


@dataclass(frozen=True)
class ChosenTemplate:
    subject: str
    body: str
    source: str  # default | tenant
    enabled: bool


@lru_cache(maxsize=1)
def _engine() -> Engine:
    return Engine(dirs=[], app_dirs=False, autoescape=False, libraries={}, debug=False)


def template_check(source: str) -> None:
    """Compile a template source; raises what Django raises (TemplateSyntaxError)."""
    _engine().from_string(source)


def template_for(*, kind: str, channel: str) -> ChosenTemplate | None:
    """The tenant's template for (kind, channel) if it saved one, else the shipped default."""
    override = NotificationTemplate.objects.filter(event_type=kind, channel=channel).first()
    if override is not None:
        return ChosenTemplate(override.subject, override.body, TENANT, override.enabled)
    default = DEFAULT_TEMPLATES.get((kind, channel))
    if default is None:
        return None
    return ChosenTemplate(default.subject, default.body, DEFAULT, True)


def render(template: ChosenTemplate, *, channel: str, variables: dict) -> tuple[str, str]:
    """(subject, body), stripped; RenderError naming what failed. The subject is e-mail only."""
    try:
        context = Context(variables, autoescape=False)
        subject = ""
        if channel == Channel.EMAIL:
            subject = " ".join(_engine().from_string(template.subject).render(context).split())
        body = _engine().from_string(template.body).render(context).strip()
    except Exception as exc:  # a tenant's template: any failure is a dead letter, never a crash
        raise RenderError(f"render_error: {type(exc).__name__}: {exc}"[:500]) from exc
    if not body:
        raise RenderError("render_error: the body rendered empty")
    return subject[:200], body
