"""Personal data at rest: encrypted model fields, blind indexes, masking and key rotation.

- `EncryptedTextField`, `EncryptedDateField`, `EncryptedJSONField` store a Fernet token
  (finfactory.crypto: `ENCRYPTION_KEYS`, newest first) in a text column and decrypt on read. The
  column alone reveals nothing; the ORM hands out plain values. Only `isnull` can be looked up:
  the tokens are randomised, so equality lookups go through a blind index instead.
- `BlindIndexField(source=…, purpose=…)` keeps a keyed HMAC-SHA256 (`BLIND_INDEX_KEY`) of
  another field's normalised value, computed on save, for exact lookups (a phone number, an ID
  number) without decrypting anything. Each purpose gets its own derived key, so equal values
  under different purposes do not link.
- `reencrypt_rows(model)` re-encrypts a model's encrypted columns under the newest key in small
  transactions (old keys keep decrypting meanwhile); `reindex_rows(model)` recomputes its blind
  indexes after `BLIND_INDEX_KEY` changed.
- `mask()`, `mask_email()`, `initials()`: what admin pages and audit records show instead.

Errors raised here name tables, columns and primary keys, never a value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction

from finfactory import crypto

MIN_BLIND_INDEX_KEY_LENGTH = 32
MASK = "•"


class PersonalDataError(RuntimeError):
    """A stored token that no configured key decrypts (a key was removed too early)."""


# --- Encrypted fields ---------------------------------------------------------------------------


class EncryptedField(models.TextField):
    """Base of the encrypted fields: subclasses say how a value becomes text and back
    (`to_text` / `from_text`; `serialize` is taken: Django's flag for fixtures)."""

    description = "Encrypted personal data (a Fernet token)"

    def to_text(self, value) -> str:
        raise NotImplementedError

    def from_text(self, text: str):
        raise NotImplementedError

    def get_prep_value(self, value):
        if value is None:
            return None
        return crypto.encrypt(self.to_text(value).encode()).decode("ascii")

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return self.from_text(self.decrypt_token(value))

    def decrypt_token(self, token: str) -> str:
        try:
            return crypto.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            where = f"{self.model._meta.db_table}.{self.column}" if hasattr(self, "model") else self.name
            raise PersonalDataError(f"{where}: no key in ENCRYPTION_KEYS decrypts the stored value") from None

    def to_python(self, value):
        return value

    def get_lookup(self, lookup_name):
        # Tokens are randomised: `exact`, `in`, `contains`… would silently match nothing.
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name):
        return None


class EncryptedTextField(EncryptedField):
    def to_text(self, value) -> str:
        if not isinstance(value, str):
            raise TypeError(f"{self.name} takes a str, not {type(value).__name__}")
        return value

    def from_text(self, text: str) -> str:
        return text


class EncryptedDateField(EncryptedField):
    def to_text(self, value) -> str:
        if not isinstance(value, date) or hasattr(value, "hour"):
            raise TypeError(f"{self.name} takes a datetime.date, not {type(value).__name__}")
        return value.isoformat()

    def from_text(self, text: str) -> date:
        return date.fromisoformat(text)


class EncryptedJSONField(EncryptedField):
    def to_text(self, value) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def from_text(self, text: str):
        return json.loads(text)


def encrypted_fields(model) -> list[EncryptedField]:
    return [field for field in model._meta.concrete_fields if isinstance(field, EncryptedField)]


def encrypted_models() -> list:
    """Every installed model with at least one encrypted column."""
    return [model for model in apps.get_models() if encrypted_fields(model)]


# --- Blind indexes ------------------------------------------------------------------------------


def normalize_text(value: str) -> str:
    """NFKC, case-folded, trimmed, inner whitespace collapsed: what 'the same value' means."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def _master_key() -> bytes:
    key = getattr(settings, "BLIND_INDEX_KEY", "")
    if not isinstance(key, str) or len(key) < MIN_BLIND_INDEX_KEY_LENGTH:
        raise ImproperlyConfigured(
            f"BLIND_INDEX_KEY must be a secret of at least {MIN_BLIND_INDEX_KEY_LENGTH} characters"
        )
    return key.encode()


@lru_cache(maxsize=32)
def _purpose_key(master: bytes, purpose: str) -> bytes:
    return hmac.new(master, f"finfactory.pii.blind_index:{purpose}".encode(), hashlib.sha256).digest()


def keyed_digest(purpose: str, value: str) -> str:
    """Hex HMAC-SHA256 of `value` as given, under the purpose's key (64 characters): a digest of
    personal data that nobody without the key can confirm a guess against."""
    if not purpose:
        raise ValueError("a keyed digest needs a purpose")
    return hmac.new(_purpose_key(_master_key(), purpose), value.encode(), hashlib.sha256).hexdigest()


def blind_index(purpose: str, value: str) -> str:
    """The keyed digest of the normalised value: equal for values that mean the same."""
    return keyed_digest(purpose, normalize_text(value))


class BlindIndexField(models.CharField):
    """The blind index of `source` (a field of the same model), set on every save().

    Empty when the source is empty. QuerySet.update() bypasses save(), and save(update_fields=…)
    computes only the fields listed: write the index together with its source.
    Declare the index the lookups need in the model's Meta (a plain B-tree, typically partial on
    non-empty values): `db_index=True` on a CharField would also build a LIKE index nobody uses.
    """

    def __init__(self, *args, source: str, purpose: str, **kwargs):
        self.source = source
        self.purpose = purpose
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def index_of(self, value) -> str:
        if value is None or value == "":
            return ""
        return blind_index(self.purpose, value if isinstance(value, str) else str(value))

    def pre_save(self, model_instance, add):
        value = self.index_of(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"], kwargs["purpose"] = self.source, self.purpose
        for key, default in (("max_length", 64), ("blank", True), ("editable", False)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        return name, path, args, kwargs


def blind_index_fields(model) -> list[BlindIndexField]:
    return [field for field in model._meta.concrete_fields if isinstance(field, BlindIndexField)]


# --- Rotation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RotationCount:
    rows: int = 0
    rows_changed: int = 0
    values_changed: int = 0

    def __add__(self, other: RotationCount) -> RotationCount:
        return RotationCount(
            self.rows + other.rows, self.rows_changed + other.rows_changed, self.values_changed + other.values_changed
        )


def _newest_key() -> Fernet:
    return Fernet(settings.ENCRYPTION_KEYS[0])


def _in_batches(model, *, read: list[str], write: list[str], batch_size: int, rewrite) -> RotationCount:
    """Walk `model`'s rows in primary-key order, `batch_size` at a time, each batch read FOR UPDATE
    and rewritten in its own transaction. Rows are `(pk, *read columns)`; `rewrite(rows)` returns
    the UPDATE parameters `(*write columns, pk)` of the rows to change, and how many values
    changed.

    The lock keeps a concurrent writer from being overwritten by a value read before its write;
    it lasts one small transaction, so writers of other rows never wait and those of these rows
    wait milliseconds. An error rolls back the batch it happened in; earlier batches stay done.
    """
    quote = connection.ops.quote_name
    pk = quote(model._meta.pk.column)
    table = quote(model._meta.db_table)
    selected = ", ".join([pk, *(quote(column) for column in read)])
    update = f"UPDATE {table} SET {', '.join(f'{quote(c)} = %s' for c in write)} WHERE {pk} = %s"  # noqa: S608
    total, last = RotationCount(), None
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            where = "" if last is None else f" WHERE {pk} > %s"
            cursor.execute(
                f"SELECT {selected} FROM {table}{where} ORDER BY {pk} LIMIT %s FOR UPDATE",  # noqa: S608 - quoted identifiers
                ([] if last is None else [last]) + [batch_size],
            )
            rows = cursor.fetchall()
            if not rows:
                return total
            changes, values = rewrite(rows)
            if changes:
                cursor.executemany(update, changes)
        total = total + RotationCount(len(rows), len(changes), values)
        last = rows[-1][0]


def reencrypt_rows(model, *, batch_size: int = 500) -> RotationCount:
    """Re-encrypt every encrypted value of `model` (current schema) under the newest key.

    Values already under the newest key are left alone, so an interrupted run resumes cheaply and
    a second run changes nothing. Raises PersonalDataError if a value decrypts with no key.
    """
    fields = encrypted_fields(model)
    if not fields:
        return RotationCount()
    newest = _newest_key()

    def rewrite(rows):
        changes, values = [], 0
        for pk, *tokens in rows:
            rotated = []
            for field, token in zip(fields, tokens, strict=True):
                if token is None or _is_current(newest, token):
                    rotated.append(token)
                    continue
                try:
                    rotated.append(crypto.rotate(token.encode("ascii")).decode("ascii"))
                except InvalidToken:
                    raise PersonalDataError(
                        f"{model._meta.db_table}.{field.column} of row {pk}: no key in ENCRYPTION_KEYS decrypts it"
                    ) from None
                values += 1
            if rotated != tokens:
                changes.append([*rotated, pk])
        return changes, values

    columns = [field.column for field in fields]
    return _in_batches(model, read=columns, write=columns, batch_size=batch_size, rewrite=rewrite)


def _is_current(newest: Fernet, token: str) -> bool:
    try:
        newest.decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


def reindex_rows(model, *, batch_size: int = 500) -> RotationCount:
    """Recompute `model`'s blind indexes (current schema) from the decrypted sources."""
    fields = blind_index_fields(model)
    if not fields:
        return RotationCount()
    sources = [model._meta.get_field(field.source) for field in fields]

    def rewrite(rows):
        changes, values = [], 0
        for pk, *stored in rows:
            indexes, raw_sources = stored[: len(fields)], stored[len(fields) :]
            fresh = [
                field.index_of(
                    source.from_db_value(raw, None, connection) if isinstance(source, EncryptedField) else raw
                )
                for field, source, raw in zip(fields, sources, raw_sources, strict=True)
            ]
            changed = sum(1 for old, new in zip(indexes, fresh, strict=True) if old != new)
            if changed:
                changes.append([*fresh, pk])
                values += changed
        return changes, values

    indexes = [field.column for field in fields]
    read = indexes + [source.column for source in sources]
    return _in_batches(model, read=read, write=indexes, batch_size=batch_size, rewrite=rewrite)


# --- Masking ------------------------------------------------------------------------------------


def mask(value: object, *, visible: int = 0) -> str:
    """`••••••4567` for visible=4; empty for no value. Never reveals more than a third of it."""
    if value is None or value == "":
        return ""
    text = str(value)
    shown = min(visible, len(text) // 3)
    return MASK * (len(text) - shown) + (text[-shown:] if shown else "")


def mask_email(email: str | None) -> str:
    """`j•••@example.com`: the first character and the domain."""
    if not email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[:1]}{MASK * 3}@{domain}" if domain else mask(email)


def initials(*names: str | None) -> str:
    """`J. D.` for John Doe."""
    return " ".join(f"{name.strip()[0].upper()}." for name in names if name and name.strip())
