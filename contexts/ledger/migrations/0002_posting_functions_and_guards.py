"""The ledger's write path in the database, and the guards that keep history immutable.

ledger_post() is a whole posting in one statement (one round trip; in autocommit, one
transaction): account locks in id order under lock_timeout, the replay check, every rule, the
postings (with per-account sequence and balance_after), the new balances, the outbox events and,
last, the entry itself chained to the tenant's previous entry. The chain head row is therefore
locked only from the end of the statement to COMMIT: the chain serialises as little as possible.

The canonical form hashed into the chain is built here and re-built independently in Python by
contexts/ledger/canonical.py for `ledger_verify`: each field as `<length>:<value>;`.

Errors are raised with SQLSTATE class FF (FF404 not found, FF409 conflict, FF422 business rule);
DETAIL carries the stable error code and HINT the public id or field concerned, which
contexts/ledger/posting.py turns into the platform's errors.

Functions and triggers are created in every tenant schema (unqualified names resolve through
django-tenants' search_path) and cloned with the template schema.
"""

from django.db import migrations

POST = r"""
CREATE OR REPLACE FUNCTION ledger_field(p_value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT length(p_value)::text || ':' || p_value || ';'
$$;

CREATE OR REPLACE FUNCTION ledger_timestamp(p_value timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(p_value AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

CREATE OR REPLACE FUNCTION ledger_publish(p_slot jsonb, p_data jsonb, p_at timestamptz, p_context jsonb)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM outbox_publish((p_slot->>'lock')::bigint, p_slot->>'event_id', p_slot->>'type',
                           (p_slot->>'version')::integer, p_slot->>'aggregate_type', p_slot->>'aggregate_id',
                           (p_slot->>'shard')::integer, p_data, p_at, p_context->>'request_id',
                           p_context->>'actor');
END
$$;

CREATE OR REPLACE FUNCTION ledger_post(
    p_entry_public_id text, p_external_ref text, p_digest text, p_kind text, p_description text,
    p_metadata jsonb, p_metadata_digest text, p_effective_at timestamptz,
    p_reverses_id bigint, p_reverses_public_id text, p_hold_id bigint, p_hold_public_id text,
    p_accounts text[], p_debits boolean[], p_amounts bigint[], p_currencies text[],
    p_release_account text, p_release_amount bigint, p_lock_timeout text, p_events jsonb
) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_existing record;
    v_row record;
    v_wanted text[];
    v_ids bigint[] := '{}';
    v_pub text[] := '{}';
    v_credit_normal boolean[] := '{}';
    v_posted bigint[] := '{}';
    v_held bigint[] := '{}';
    v_seq bigint[] := '{}';
    v_floor bigint[] := '{}';
    v_max bigint[] := '{}';
    v_currency text[] := '{}';
    v_owner text[] := '{}';
    v_status text[] := '{}';
    v_line_account bigint[] := '{}';
    v_line_seq bigint[] := '{}';
    v_line_balance bigint[] := '{}';
    v_line_direction text[] := '{}';
    v_lines_out jsonb := '[]';
    v_postings_event jsonb := '[]';
    v_n integer := coalesce(array_length(p_accounts, 1), 0);
    v_entry_id bigint;
    v_now timestamptz;
    v_effective timestamptz;
    v_signed bigint;
    v_canonical text;
    v_chain_seq bigint;
    v_prev text;
    v_hash text;
    v_slot jsonb;
    i integer;
    k integer;
BEGIN
    PERFORM set_config('lock_timeout', p_lock_timeout, true);

    IF v_n < 2 THEN
        RAISE EXCEPTION 'an entry needs at least two postings'
            USING ERRCODE = 'FF422', DETAIL = 'too_few_postings', HINT = 'postings';
    END IF;
    IF EXISTS (
        SELECT 1 FROM unnest(p_currencies, p_debits, p_amounts) AS l(currency, debit, amount)
         GROUP BY l.currency
        HAVING sum(CASE WHEN l.debit THEN l.amount ELSE -l.amount END) <> 0
    ) THEN
        RAISE EXCEPTION 'debits and credits differ in at least one currency'
            USING ERRCODE = 'FF422', DETAIL = 'unbalanced_entry', HINT = 'postings';
    END IF;

    -- Lock every account the entry touches, in id order: concurrent entries cannot deadlock.
    v_wanted := ARRAY(SELECT DISTINCT x FROM unnest(p_accounts || p_release_account) AS x WHERE x IS NOT NULL);
    FOR v_row IN
        SELECT id, public_id, normal_balance, posted, held, last_sequence, overdraft_limit, max_balance,
               currency, status, owner_ref
          FROM ledger_account WHERE public_id = ANY(v_wanted) ORDER BY id FOR UPDATE
    LOOP
        v_ids := v_ids || v_row.id;
        v_pub := v_pub || v_row.public_id::text;
        v_credit_normal := v_credit_normal || (v_row.normal_balance = 'credit');
        v_posted := v_posted || v_row.posted;
        v_held := v_held || v_row.held;
        v_seq := v_seq || v_row.last_sequence;
        v_floor := v_floor || (-v_row.overdraft_limit);
        v_max := v_max || v_row.max_balance;
        v_currency := v_currency || v_row.currency::text;
        v_owner := v_owner || v_row.owner_ref::text;
        v_status := v_status || v_row.status::text;
    END LOOP;

    -- A reference seen before (checked under the locks, so a concurrent twin has committed by
    -- now): the same request is answered with the first entry, a different one is refused.
    SELECT id, request_digest INTO v_existing FROM ledger_journalentry WHERE external_ref = p_external_ref;
    IF FOUND THEN
        IF v_existing.request_digest <> p_digest THEN
            RAISE EXCEPTION 'external_ref % was already used for a different entry', p_external_ref
                USING ERRCODE = 'FF409', DETAIL = 'external_ref_reused', HINT = 'external_ref';
        END IF;
        RETURN jsonb_build_object('replayed', true, 'entry_id', v_existing.id);
    END IF;

    IF coalesce(array_length(v_ids, 1), 0) <> coalesce(array_length(v_wanted, 1), 0) THEN
        SELECT x INTO v_row FROM unnest(v_wanted) AS x WHERE x <> ALL(v_pub) LIMIT 1;
        RAISE EXCEPTION 'account % does not exist', v_row.x
            USING ERRCODE = 'FF404', DETAIL = 'account_not_found', HINT = v_row.x;
    END IF;
    FOR k IN 1 .. array_length(v_ids, 1) LOOP
        IF v_status[k] <> 'active' THEN
            RAISE EXCEPTION 'account % is %', v_pub[k], v_status[k]
                USING ERRCODE = 'FF422', DETAIL = 'account_not_active', HINT = v_pub[k];
        END IF;
    END LOOP;

    -- A hold being captured gives its reservation back before the funds are checked.
    IF p_release_account IS NOT NULL THEN
        k := array_position(v_pub, p_release_account);
        IF v_held[k] < p_release_amount THEN
            RAISE EXCEPTION 'account % holds less than %', p_release_account, p_release_amount
                USING ERRCODE = 'FF409', DETAIL = 'hold_mismatch', HINT = p_release_account;
        END IF;
        v_held[k] := v_held[k] - p_release_amount;
    END IF;

    v_now := clock_timestamp();
    v_effective := coalesce(p_effective_at, v_now);
    v_entry_id := nextval('ledger_journalentry_id_seq'::regclass);
    v_canonical := 'ledger-entry-v1;' || ledger_field(p_entry_public_id) || ledger_field(p_external_ref)
        || ledger_field(p_kind) || ledger_field(p_description) || ledger_field(p_metadata_digest)
        || ledger_field(ledger_timestamp(v_effective)) || ledger_field(ledger_timestamp(v_now))
        || ledger_field(coalesce(p_reverses_public_id, '')) || ledger_field(coalesce(p_hold_public_id, ''));
    FOR i IN 1 .. v_n LOOP
        k := array_position(v_pub, p_accounts[i]);
        IF v_currency[k] <> p_currencies[i] THEN
            RAISE EXCEPTION 'account % holds %, not %', p_accounts[i], v_currency[k], p_currencies[i]
                USING ERRCODE = 'FF422', DETAIL = 'currency_mismatch', HINT = p_accounts[i];
        END IF;
        v_signed := CASE WHEN p_debits[i] <> v_credit_normal[k] THEN p_amounts[i] ELSE -p_amounts[i] END;
        v_posted[k] := v_posted[k] + v_signed;
        v_seq[k] := v_seq[k] + 1;
        v_line_account := v_line_account || v_ids[k];
        v_line_seq := v_line_seq || v_seq[k];
        v_line_balance := v_line_balance || v_posted[k];
        v_line_direction := v_line_direction || CASE WHEN p_debits[i] THEN 'D' ELSE 'C' END;
        v_lines_out := v_lines_out || jsonb_build_object('sequence', v_seq[k], 'balance_after', v_posted[k]);
        v_postings_event := v_postings_event || jsonb_build_object(
            'account_id', p_accounts[i], 'direction', CASE WHEN p_debits[i] THEN 'debit' ELSE 'credit' END,
            'amount', p_amounts[i], 'currency', p_currencies[i], 'sequence', v_seq[k],
            'balance_after', v_posted[k]);
        v_canonical := v_canonical || ledger_field(p_accounts[i]) || ledger_field(v_line_direction[i])
            || ledger_field(p_amounts[i]::text) || ledger_field(p_currencies[i]);
    END LOOP;

    -- Every account ends within its floor and ceiling (the CHECK constraints say so again).
    FOR k IN 1 .. array_length(v_ids, 1) LOOP
        IF v_floor[k] IS NOT NULL AND v_posted[k] - v_held[k] < v_floor[k] THEN
            RAISE EXCEPTION 'account % has insufficient available funds', v_pub[k]
                USING ERRCODE = 'FF422', DETAIL = 'insufficient_funds', HINT = v_pub[k];
        END IF;
        IF v_max[k] IS NOT NULL AND v_posted[k] > v_max[k] THEN
            RAISE EXCEPTION 'account % would exceed its maximum balance', v_pub[k]
                USING ERRCODE = 'FF422', DETAIL = 'max_balance_exceeded', HINT = v_pub[k];
        END IF;
    END LOOP;

    INSERT INTO ledger_posting
        (entry_id, line, account_id, direction, amount, currency, sequence, balance_after, posted_at)
    SELECT v_entry_id, l.line, l.account_id, l.direction, l.amount, l.currency, l.sequence, l.balance_after, v_now
      FROM unnest(v_line_account, v_line_direction, p_amounts, p_currencies, v_line_seq, v_line_balance)
           WITH ORDINALITY AS l(account_id, direction, amount, currency, sequence, balance_after, line);

    UPDATE ledger_account a
       SET posted = n.posted, held = n.held, last_sequence = n.seq, updated_at = v_now
      FROM unnest(v_ids, v_posted, v_held, v_seq) AS n(id, posted, held, seq)
     WHERE a.id = n.id;

    -- Events, in the same transaction (the slots come from finfactory.outbox.publish.event_slot).
    PERFORM ledger_publish(p_events->'journal', jsonb_build_object(
        'entry_id', p_entry_public_id, 'external_ref', p_external_ref, 'kind', p_kind,
        'description', p_description, 'effective_at', v_effective, 'posted_at', v_now,
        'reverses', p_reverses_public_id, 'hold_id', p_hold_public_id, 'metadata', p_metadata,
        'postings', v_postings_event), v_now, p_events);
    FOR k IN 1 .. array_length(v_ids, 1) LOOP
        PERFORM ledger_publish(p_events->'balances'->v_pub[k], jsonb_build_object(
            'account_id', v_pub[k], 'owner_ref', v_owner[k], 'currency', v_currency[k], 'posted', v_posted[k],
            'held', v_held[k], 'available', v_posted[k] - v_held[k], 'sequence', v_seq[k], 'cause', 'entry',
            'cause_id', p_entry_public_id), v_now, p_events);
    END LOOP;
    FOR v_slot IN SELECT value FROM jsonb_array_elements(coalesce(p_events->'extra', '[]')) LOOP
        PERFORM ledger_publish(v_slot, v_slot->'data', v_now, p_events);
    END LOOP;

    -- Last: chain the entry to the tenant's previous one. The chain head stays locked only from
    -- here to COMMIT. A concurrent twin with the same reference on other accounts loses at the
    -- unique index and its whole statement rolls back (posting.py answers it as a replay).
    SELECT seq, hash INTO v_chain_seq, v_prev FROM ledger_chainhead WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO ledger_chainhead (id, seq, hash) VALUES (1, 0, repeat('0', 64)) ON CONFLICT (id) DO NOTHING;
        SELECT seq, hash INTO v_chain_seq, v_prev FROM ledger_chainhead WHERE id = 1 FOR UPDATE;
    END IF;
    v_hash := encode(sha256(convert_to(v_prev || v_canonical, 'UTF8')), 'hex');
    INSERT INTO ledger_journalentry
        (id, public_id, external_ref, request_digest, kind, description, metadata, effective_at, posted_at,
         reverses_id, hold_id, chain_seq, prev_hash, hash)
    VALUES (v_entry_id, p_entry_public_id, p_external_ref, p_digest, p_kind, p_description, p_metadata,
            v_effective, v_now, p_reverses_id, p_hold_id, v_chain_seq + 1, v_prev, v_hash);
    UPDATE ledger_chainhead SET seq = v_chain_seq + 1, hash = v_hash WHERE id = 1;

    RETURN jsonb_build_object(
        'replayed', false, 'entry_id', v_entry_id, 'posted_at', v_now, 'effective_at', v_effective,
        'hash', v_hash, 'lines', v_lines_out);
END
$$;
"""

GUARDS = r"""
-- Balances change on every posting: leave room on each page so the update stays a HOT update
-- (no index maintenance). The chain head is a single, constantly rewritten row.
ALTER TABLE ledger_account SET (fillfactor = 70);
ALTER TABLE ledger_chainhead SET (fillfactor = 50);

CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger % rows are immutable: % refused (post a reversal instead)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'FF403', DETAIL = 'ledger_immutable';
END
$$;

CREATE TRIGGER ledger_posting_immutable BEFORE UPDATE OR DELETE ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_posting_no_truncate BEFORE TRUNCATE ON ledger_posting
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entry_immutable BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON ledger_journalentry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
"""

DROP = r"""
DROP TRIGGER IF EXISTS ledger_entry_no_truncate ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_entry_immutable ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_posting_no_truncate ON ledger_posting;
DROP TRIGGER IF EXISTS ledger_posting_immutable ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_refuse_change();
DROP FUNCTION IF EXISTS ledger_post(text, text, text, text, text, jsonb, text, timestamptz, bigint, text, bigint, text,
    text[], boolean[], bigint[], text[], text, bigint, text, jsonb);
DROP FUNCTION IF EXISTS ledger_publish(jsonb, jsonb, timestamptz, jsonb);
DROP FUNCTION IF EXISTS ledger_timestamp(timestamptz);
DROP FUNCTION IF EXISTS ledger_field(text);
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunSQL(POST + GUARDS, DROP)]
