"""outbox_publish(): lock the aggregate, then insert with the next sequence — one round trip.

VOLATILE PL/pgSQL runs each statement with a fresh snapshot, so the INSERT (after the lock is
granted) sees the sequence committed by the previous holder. Created in each schema (unqualified,
resolved through django-tenants' search_path), cloned with the template like every object.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION outbox_publish(
    p_lock bigint, p_event_id text, p_type text, p_version integer, p_aggregate_type text,
    p_aggregate_id text, p_shard integer, p_data jsonb, p_occurred_at timestamptz,
    p_request_id text, p_actor text
) RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_sequence integer;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock);
    INSERT INTO outbox_outboxevent
        (event_id, type, version, aggregate_type, aggregate_id, sequence, shard, data, occurred_at,
         request_id, actor, status, attempts, next_attempt_at, last_error)
    SELECT p_event_id, p_type, p_version, p_aggregate_type, p_aggregate_id,
           COALESCE(MAX(o.sequence), 0) + 1, p_shard, p_data, p_occurred_at,
           p_request_id, p_actor, 'pending', 0, p_occurred_at, ''
      FROM outbox_outboxevent o
     WHERE o.aggregate_type = p_aggregate_type AND o.aggregate_id = p_aggregate_id
    RETURNING sequence INTO v_sequence;
    RETURN v_sequence;
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS outbox_publish(bigint, text, text, integer, text, text, integer, jsonb, timestamptz, text, text);"


class Migration(migrations.Migration):
    dependencies = [("outbox", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
