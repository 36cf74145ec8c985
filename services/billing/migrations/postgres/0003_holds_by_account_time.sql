-- ListHolds pages an account's holds newest first (/history, /status): one index walk per page.
CREATE INDEX holds_by_account_time ON holds (account_id, created_at_ms DESC, job_id DESC);
DROP INDEX holds_by_account;
