"""The suite's "nothing written" check, checked: it sees an insert, an update, a delete and a
dropped table in any watched schema, and not what a savepoint rolled back."""

from __future__ import annotations

import pytest
from django.db import connection, transaction


def _sql(statement: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement)


def _probe(schema: str) -> int:
    """A row of the schema's content types that nothing refers to."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO \"{schema}\".django_content_type (app_label, model) VALUES ('hostile', 'old') RETURNING id"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("role", ["public", "A", "B"])
@pytest.mark.parametrize(
    ("what", "statement"),
    [
        ("an insert", "INSERT INTO {t} (app_label, model) VALUES ('hostile', 'probe')"),
        ("an update", "UPDATE {t} SET model = model WHERE id = {id}"),
        ("a delete", "DELETE FROM {t} WHERE id = {id}"),
    ],
)
def test_the_watch_sees_a_write_in_any_schema(world, role, what, statement):
    schema = world.watch.schemas[role]
    probe = _probe(schema)
    before = world.watch.snapshot()

    _sql(statement.format(t=f'"{schema}".django_content_type', id=probe))

    assert list(world.watch.changes(before)) == [f"{role}.django_content_type"], what


def test_the_watch_sees_a_dropped_table(world):
    before = world.watch.snapshot()

    _sql(f'DROP TABLE "{world.b.schema}".ledger_account CASCADE')

    assert world.watch.changes(before).get("B.ledger_account") == "dropped"


def test_the_watch_ignores_what_a_savepoint_rolled_back(world):
    before = world.watch.snapshot()

    with transaction.atomic():
        _sql(f"INSERT INTO \"{world.a.schema}\".django_content_type (app_label, model) VALUES ('hostile', 'gone')")
        transaction.set_rollback(True)

    assert world.watch.changes(before) == {}


def test_only_the_callers_idempotency_cache_may_change(world):
    before = world.watch.snapshot()
    insert = (
        'INSERT INTO "{s}".idempotency_idempotencyrecord (owner, key, method, path, fingerprint, field_digests,'
        " response_status, response_body, created_at, expires_at)"
        " VALUES ('o', 'k', 'POST', '/', 'f', '{{}}', 400, '', now(), now())"
    )

    _sql(insert.format(s=world.a.schema))

    assert world.watch.changes(before, caller="A") == {}
    assert list(world.watch.changes(before, caller="B")) == ["A.idempotency_idempotencyrecord"]
