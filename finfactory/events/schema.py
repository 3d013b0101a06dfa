"""Building blocks of event payload schemas (JSON Schema), shared by every context's events.py."""

CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$"}
DATE_TIME = {"type": "string", "format": "date-time"}


def strict_object(properties: dict, required: list[str] | None = None) -> dict:
    """An object with exactly these properties: all required unless `required` says otherwise,
    nothing else allowed (a payload field is added by a new event version, never silently)."""
    return {
        "type": "object",
        "properties": properties,
        "required": required if required is not None else list(properties),
        "additionalProperties": False,
    }
