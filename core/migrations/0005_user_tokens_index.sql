-- API tokens looked up by their hash in one index probe (assistant/accounts.py UsersTable.holding),
-- not by reading every user on each API request.
CREATE INDEX users_tokens ON accounts.users USING gin ((tokens::jsonb) jsonb_path_ops);
