-- The users of the chat and the API (assistant/accounts.py): what the users file holds, one row
-- per user (groups and API tokens as JSON text, as in the file).
CREATE SCHEMA accounts;
CREATE TABLE accounts.users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    groups TEXT NOT NULL,
    created TEXT NOT NULL,
    tokens TEXT NOT NULL DEFAULT '[]'
);
