-- API keys of the HTTP API (PostgreSQL). Keep in step with ../sqlite/0002_api_keys.sql.
-- Only the SHA-256 of a key is stored (hex); the key itself is shown once, when it is issued.
CREATE TABLE api_keys (
    key_sha256    TEXT   PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts (id),
    -- The key's first characters ("mb_1a2b3c4d"), safe to show and log.
    prefix        TEXT   NOT NULL,
    created_at_ms BIGINT NOT NULL,
    -- NULL while the key is valid.
    revoked_at_ms BIGINT
);
CREATE INDEX api_keys_by_account ON api_keys (account_id) WHERE revoked_at_ms IS NULL;
