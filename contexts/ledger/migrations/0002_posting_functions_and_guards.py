"""The ledger's write path in the database, and the guards that keep history immutable.

ledger_post() is a whole posting in one statement (one round trip; in autocommit, one
transaction): the replay check and the entry row (with its content hash) first, then the account
locks in id order under lock_timeout, every rule, the postings (with per-account sequence,
balance_after and hash-chain link), the new balances and the outbox events. Only what needs the
balances is done under the account locks, so a hot account is held as briefly as possible, and
nothing tenant-wide is locked at all: the entry joins the tenant's chain seconds later, when
ledger_seal() (run by the sealer) links it to the previous seal.

The hashes are computed here and re-computed independently in Python by
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

CREATE OR REPLACE FUNCTION ledger_post(
    p_entry_public_id text, p_external_ref text, p_digest text, p_kind text, p_description text,
    p_metadata jsonb, p_metadata_digest text, p_effective_at timestamptz,
    p_reverses_id bigint, p_reverses_public_id text, p_hold_id bigint, p_hold_public_id text,
    p_accounts text[], p_debits boolean[], p_amounts bigint[], p_currencies text[],
    p_release_account text, p_release_amount bigint, p_lock_timeout text, p_events jsonb
) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_existing record;
    v_ids bigint[];
    v_pub text[];
    v_credit_normal boolean[];
    v_posted bigint[];
    v_held bigint[];
    v_seq bigint[];
    v_floor bigint[];
    v_max bigint[];
    v_currency text[];
    v_owner text[];
    v_status text[];
    v_hash text[];
    v_line_account bigint[] := '{}';
    v_line_seq bigint[] := '{}';
    v_line_balance bigint[] := '{}';
    v_line_hash text[] := '{}';
    v_directions text[];
    v_lines_out jsonb := '[]';
    v_postings_event jsonb := '[]';
    v_n integer := cardinality(p_accounts);
    v_m integer;
    v_entry_id bigint;
    v_now timestamptz := clock_timestamp();  -- the entry's posted_at
    v_applied timestamptz;  -- the postings' posted_at, taken under the locks: ordered like the sequences
    v_effective timestamptz := coalesce(p_effective_at, v_now);
    v_entry_hash text;
    v_missing text;
    v_events jsonb;
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

    -- A reference seen before: the same request is answered with the first entry, a different one
    -- is refused. A twin still in flight makes the INSERT below wait, then fail on the unique
    -- index (posting.py answers that as a replay too).
    SELECT id, request_digest INTO v_existing FROM ledger_journalentry WHERE external_ref = p_external_ref;
    IF FOUND THEN
        IF v_existing.request_digest <> p_digest THEN
            RAISE EXCEPTION 'external_ref % was already used for a different entry', p_external_ref
                USING ERRCODE = 'FF409', DETAIL = 'external_ref_reused', HINT = 'external_ref';
        END IF;
        RETURN jsonb_build_object('replayed', true, 'entry_id', v_existing.id);
    END IF;

    -- The entry and its content hash need no account lock: written first, outside the section
    -- that hot accounts serialise on.
    v_directions := ARRAY(SELECT CASE WHEN d THEN 'D' ELSE 'C' END FROM unnest(p_debits) AS d);
    v_entry_hash := encode(sha256(convert_to(
        'ledger-entry-v1;' || ledger_field(p_entry_public_id) || ledger_field(p_external_ref)
        || ledger_field(p_kind) || ledger_field(p_description) || ledger_field(p_metadata_digest)
        || ledger_field(ledger_timestamp(v_effective)) || ledger_field(ledger_timestamp(v_now))
        || ledger_field(coalesce(p_reverses_public_id, '')) || ledger_field(coalesce(p_hold_public_id, ''))
        || (SELECT string_agg(ledger_field(l.account) || ledger_field(l.direction) || ledger_field(l.amount::text)
                              || ledger_field(l.currency), '' ORDER BY l.line)
              FROM unnest(p_accounts, v_directions, p_amounts, p_currencies)
                   WITH ORDINALITY AS l(account, direction, amount, currency, line)),
        'UTF8')), 'hex');
    INSERT INTO ledger_journalentry
        (public_id, external_ref, request_digest, kind, description, metadata, effective_at, posted_at,
         reverses_id, hold_id, hash)
    VALUES (p_entry_public_id, p_external_ref, p_digest, p_kind, p_description, p_metadata,
            v_effective, v_now, p_reverses_id, p_hold_id, v_entry_hash)
    RETURNING id INTO v_entry_id;
    INSERT INTO ledger_unsealedentry (entry_id) VALUES (v_entry_id);  -- for the chain sealer

    -- Lock every account the entry touches, in id order: concurrent entries cannot deadlock.
    SELECT array_agg(a.id), array_agg(a.public_id::text), array_agg(a.normal_balance = 'credit'),
           array_agg(a.posted), array_agg(a.held), array_agg(a.last_sequence), array_agg(-a.overdraft_limit),
           array_agg(a.max_balance), array_agg(a.currency::text), array_agg(a.owner_ref::text),
           array_agg(a.status::text), array_agg(a.last_hash::text)
      INTO v_ids, v_pub, v_credit_normal, v_posted, v_held, v_seq, v_floor, v_max, v_currency, v_owner,
           v_status, v_hash
      FROM (SELECT * FROM ledger_account
             WHERE public_id = ANY(p_accounts || p_release_account) ORDER BY id FOR UPDATE) a;
    v_m := coalesce(cardinality(v_ids), 0);
    v_applied := clock_timestamp();

    IF v_m < (SELECT count(DISTINCT x) FROM unnest(p_accounts || p_release_account) AS x WHERE x IS NOT NULL) THEN
        SELECT x INTO v_missing FROM unnest(p_accounts || p_release_account) AS x
         WHERE x IS NOT NULL AND x <> ALL(coalesce(v_pub, '{}')) LIMIT 1;
        RAISE EXCEPTION 'account % does not exist', v_missing
            USING ERRCODE = 'FF404', DETAIL = 'account_not_found', HINT = v_missing;
    END IF;
    FOR k IN 1 .. v_m LOOP
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

    -- Each posting: the account's next sequence, its balance after, and its link in the
    -- account's hash chain (the previous posting's hash, this entry's hash, line, sequence, balance).
    FOR i IN 1 .. v_n LOOP
        k := array_position(v_pub, p_accounts[i]);
        IF v_currency[k] <> p_currencies[i] THEN
            RAISE EXCEPTION 'account % holds %, not %', p_accounts[i], v_currency[k], p_currencies[i]
                USING ERRCODE = 'FF422', DETAIL = 'currency_mismatch', HINT = p_accounts[i];
        END IF;
        v_posted[k] := v_posted[k] + CASE WHEN p_debits[i] <> v_credit_normal[k] THEN p_amounts[i] ELSE -p_amounts[i] END;
        v_seq[k] := v_seq[k] + 1;
        v_hash[k] := encode(sha256(convert_to('ledger-posting-v1;' || ledger_field(v_hash[k]) || ledger_field(v_entry_hash)
            || ledger_field(i::text) || ledger_field(v_seq[k]::text) || ledger_field(v_posted[k]::text), 'UTF8')), 'hex');
        v_line_account[i] := v_ids[k];
        v_line_seq[i] := v_seq[k];
        v_line_balance[i] := v_posted[k];
        v_line_hash[i] := v_hash[k];
    END LOOP;

    -- Every account ends within its floor and ceiling (the CHECK constraints say so again).
    FOR k IN 1 .. v_m LOOP
        IF v_posted[k] - v_held[k] < v_floor[k] THEN
            RAISE EXCEPTION 'account % has insufficient available funds', v_pub[k]
                USING ERRCODE = 'FF422', DETAIL = 'insufficient_funds', HINT = v_pub[k];
        END IF;
        IF v_posted[k] > v_max[k] THEN
            RAISE EXCEPTION 'account % would exceed its maximum balance', v_pub[k]
                USING ERRCODE = 'FF422', DETAIL = 'max_balance_exceeded', HINT = v_pub[k];
        END IF;
    END LOOP;

    INSERT INTO ledger_posting
        (entry_id, line, account_id, direction, amount, currency, sequence, balance_after, hash, posted_at)
    SELECT v_entry_id, l.line, l.account_id, l.direction, l.amount, l.currency, l.sequence, l.balance_after, l.hash,
           v_applied
      FROM unnest(v_line_account, v_directions, p_amounts, p_currencies, v_line_seq, v_line_balance, v_line_hash)
           WITH ORDINALITY AS l(account_id, direction, amount, currency, sequence, balance_after, hash, line);

    UPDATE ledger_account a
       SET posted = n.posted, held = n.held, last_sequence = n.seq, last_hash = n.hash, updated_at = v_applied
      FROM unnest(v_ids, v_posted, v_held, v_seq, v_hash) AS n(id, posted, held, seq, hash)
     WHERE a.id = n.id;

    -- Events, in the same transaction: journal.posted (a new aggregate: sequence 1) and
    -- balance.updated per account (its aggregate is serialised by the row lock held here, and by
    -- the advisory lock every publisher takes), in one INSERT.
    v_events := jsonb_build_array(p_events->'journal' || jsonb_build_object('data', jsonb_build_object(
        'entry_id', p_entry_public_id, 'external_ref', p_external_ref, 'kind', p_kind,
        'description', p_description, 'effective_at', v_effective, 'posted_at', v_now,
        'reverses', p_reverses_public_id, 'hold_id', p_hold_public_id, 'metadata', p_metadata,
        'postings', (SELECT jsonb_agg(jsonb_build_object(
              'account_id', l.account, 'direction', CASE WHEN l.debit THEN 'debit' ELSE 'credit' END,
              'amount', l.amount, 'currency', l.currency, 'sequence', l.sequence, 'balance_after', l.balance_after)
              ORDER BY l.line)
            FROM unnest(p_accounts, p_debits, p_amounts, p_currencies, v_line_seq, v_line_balance)
                 WITH ORDINALITY AS l(account, debit, amount, currency, sequence, balance_after, line)))))
      || (SELECT jsonb_agg(p_events->'balances'->b.pub || jsonb_build_object('data', jsonb_build_object(
              'account_id', b.pub, 'owner_ref', b.owner, 'currency', b.currency, 'posted', b.posted,
              'held', b.held, 'available', b.posted - b.held, 'sequence', b.seq, 'cause', 'entry',
              'cause_id', p_entry_public_id)))
            FROM unnest(v_pub, v_owner, v_currency, v_posted, v_held, v_seq) AS b(pub, owner, currency, posted, held, seq))
      || coalesce(p_events->'extra', '[]');
    PERFORM pg_advisory_xact_lock(l) FROM (SELECT (e->>'lock')::bigint AS l FROM jsonb_array_elements(v_events) e ORDER BY 1) s;
    INSERT INTO outbox_outboxevent
        (event_id, type, version, aggregate_type, aggregate_id, sequence, shard, data, occurred_at,
         request_id, actor, status, attempts, next_attempt_at, last_error)
    SELECT e->>'event_id', e->>'type', (e->>'version')::integer, e->>'aggregate_type', e->>'aggregate_id',
           coalesce((SELECT max(o.sequence) FROM outbox_outboxevent o
                      WHERE o.aggregate_type = e->>'aggregate_type' AND o.aggregate_id = e->>'aggregate_id'), 0)
             + row_number() OVER (PARTITION BY e->>'aggregate_type', e->>'aggregate_id' ORDER BY n),
           (e->>'shard')::integer, e->'data', v_applied, p_events->>'request_id', p_events->>'actor',
           'pending', 0, v_applied, ''
      FROM jsonb_array_elements(v_events) WITH ORDINALITY AS x(e, n);

    RETURN jsonb_build_object(
        'replayed', false, 'entry_id', v_entry_id, 'posted_at', v_now, 'applied_at', v_applied,
        'effective_at', v_effective,
        'hash', v_entry_hash,
        'lines', (SELECT jsonb_agg(jsonb_build_object('sequence', s, 'balance_after', b) ORDER BY o)
                    FROM unnest(v_line_seq, v_line_balance) WITH ORDINALITY AS x(s, b, o)));
END
$$;

-- The chain sealer (contexts/ledger/sealing.py): the next entries awaiting their seal, in id order,
-- each chained to the previous seal. The head row is locked for the batch, so one sealer runs at
-- a time; postings never touch it.
CREATE OR REPLACE FUNCTION ledger_seal(p_limit integer) RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_seq bigint;
    v_hash text;
    v_ids bigint[];
    v_entry_hashes text[];
    v_prevs text[] := '{}';
    v_hashes text[] := '{}';
    v_seqs bigint[] := '{}';
    i integer;
BEGIN
    INSERT INTO ledger_chainhead (id, seq, hash) VALUES (1, 0, repeat('0', 64)) ON CONFLICT (id) DO NOTHING;
    SELECT seq, hash INTO v_seq, v_hash FROM ledger_chainhead WHERE id = 1 FOR UPDATE;
    WITH taken AS (
        DELETE FROM ledger_unsealedentry
         WHERE entry_id IN (SELECT entry_id FROM ledger_unsealedentry ORDER BY entry_id LIMIT p_limit)
        RETURNING entry_id
    )
    SELECT array_agg(e.id ORDER BY e.id), array_agg(e.hash::text ORDER BY e.id) INTO v_ids, v_entry_hashes
      FROM taken t JOIN ledger_journalentry e ON e.id = t.entry_id;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    FOR i IN 1 .. cardinality(v_ids) LOOP
        v_seq := v_seq + 1;
        v_seqs[i] := v_seq;
        v_prevs[i] := v_hash;
        v_hash := encode(sha256(convert_to(v_hash || v_entry_hashes[i], 'UTF8')), 'hex');
        v_hashes[i] := v_hash;
    END LOOP;
    INSERT INTO ledger_entryseal (entry_id, seq, prev_hash, hash, sealed_at)
    SELECT s.entry_id, s.seq, s.prev_hash, s.hash, clock_timestamp()
      FROM unnest(v_ids, v_seqs, v_prevs, v_hashes) AS s(entry_id, seq, prev_hash, hash);
    UPDATE ledger_chainhead SET seq = v_seq, hash = v_hash WHERE id = 1;
    RETURN cardinality(v_ids);
END
$$;
"""

GUARDS = r"""
-- Balances change on every posting: leave room on each page so the update stays a HOT update
-- (no index maintenance). The chain head is one row rewritten by every sealing batch.
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
CREATE TRIGGER ledger_seal_immutable BEFORE UPDATE OR DELETE ON ledger_entryseal
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_seal_no_truncate BEFORE TRUNCATE ON ledger_entryseal
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
"""

DROP = r"""
DROP TRIGGER IF EXISTS ledger_seal_no_truncate ON ledger_entryseal;
DROP TRIGGER IF EXISTS ledger_seal_immutable ON ledger_entryseal;
DROP TRIGGER IF EXISTS ledger_entry_no_truncate ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_entry_immutable ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_posting_no_truncate ON ledger_posting;
DROP TRIGGER IF EXISTS ledger_posting_immutable ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_refuse_change();
DROP FUNCTION IF EXISTS ledger_seal(integer);
DROP FUNCTION IF EXISTS ledger_post(text, text, text, text, text, jsonb, text, timestamptz, bigint, text, bigint, text,
    text[], boolean[], bigint[], text[], text, bigint, text, jsonb);
DROP FUNCTION IF EXISTS ledger_timestamp(timestamptz);
DROP FUNCTION IF EXISTS ledger_field(text);
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunSQL(POST + GUARDS, DROP)]
