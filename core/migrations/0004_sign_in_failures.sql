-- Failed sign-ins by user name or client address (assistant/ui/server_guard.py), shared by every
-- server; ``at``: seconds since 1970 by the database's clock. Rows older than the longest wait are
-- deleted as new ones come.
CREATE TABLE accounts.sign_in_failures (key TEXT NOT NULL, at DOUBLE PRECISION NOT NULL);
CREATE INDEX sign_in_failures_key ON accounts.sign_in_failures (key, at);
CREATE INDEX sign_in_failures_at ON accounts.sign_in_failures (at);
