-- Accounts, holds and the immutable ledger (PostgreSQL). Keep in step with ../sqlite/0001_ledger.sql:
-- the same tables, columns and constraints, only the types and trigger syntax differ.
-- Money: integer minor units (kopecks). Times: milliseconds since the Unix epoch, UTC.

-- One row per Telegram user. balance_minor is the sum of the account's ledger entries, changed in the
-- same transaction as the entries; held_minor is the sum of its pending holds.
CREATE TABLE accounts (
    id            BIGINT PRIMARY KEY,
    currency      TEXT   NOT NULL,
    balance_minor BIGINT NOT NULL,
    held_minor    BIGINT NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    CONSTRAINT accounts_held_not_negative CHECK (held_minor >= 0),
    CONSTRAINT accounts_available_not_negative CHECK (balance_minor - held_minor >= 0)
);

-- Immutable: rows are only ever inserted (see the trigger below).
CREATE TABLE ledger_entries (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id          BIGINT NOT NULL REFERENCES accounts (id),
    kind                TEXT   NOT NULL CHECK (kind IN ('welcome_credit', 'top_up', 'hold', 'capture',
                                                        'release', 'expiry', 'refund', 'adjustment')),
    -- Signed change of balance_minor; 0 for hold/release/expiry records.
    amount_minor        BIGINT NOT NULL,
    -- balance_minor of the account right after this entry (for audits).
    balance_after_minor BIGINT NOT NULL,
    -- Job id for job entries, idempotency key for top-ups.
    reference           TEXT   NOT NULL,
    -- Operation name for job entries, source for top-ups.
    description         TEXT   NOT NULL,
    created_at_ms       BIGINT NOT NULL
);
CREATE INDEX ledger_entries_by_account ON ledger_entries (account_id, id);
-- Exactly-once rules the database enforces even if the code got them wrong.
CREATE UNIQUE INDEX ledger_entries_one_welcome ON ledger_entries (account_id) WHERE kind = 'welcome_credit';
CREATE UNIQUE INDEX ledger_entries_one_top_up_per_key ON ledger_entries (reference) WHERE kind = 'top_up';
CREATE UNIQUE INDEX ledger_entries_one_capture_per_job ON ledger_entries (reference) WHERE kind = 'capture';

CREATE FUNCTION ledger_entries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are immutable';
END;
$$;
CREATE TRIGGER ledger_entries_no_change BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_immutable();

-- One hold per job id (the idempotency key of Reserve).
CREATE TABLE holds (
    job_id         TEXT   PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES accounts (id),
    operation      TEXT   NOT NULL,
    amount_minor   BIGINT NOT NULL CHECK (amount_minor >= 0),
    captured_minor BIGINT NOT NULL DEFAULT 0 CHECK (captured_minor >= 0 AND captured_minor <= amount_minor),
    state          TEXT   NOT NULL CHECK (state IN ('pending', 'captured', 'released', 'expired')),
    created_at_ms  BIGINT NOT NULL,
    expires_at_ms  BIGINT NOT NULL,
    settled_at_ms  BIGINT
);
CREATE INDEX holds_pending_by_expiry ON holds (expires_at_ms) WHERE state = 'pending';
CREATE INDEX holds_by_account ON holds (account_id);
