-- The chat's conversations and feedback (assistant/ui/conversations.py), in their own schema:
-- the same tables and columns as the SQLite file (text as stored there: user text redacted).
CREATE SCHEMA chat;
CREATE TABLE chat.users (
    id TEXT PRIMARY KEY, identifier TEXT UNIQUE NOT NULL, created_at TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}');
CREATE TABLE chat.threads (
    id TEXT PRIMARY KEY, created_at TEXT NOT NULL, name TEXT, user_id TEXT,
    user_identifier TEXT, tags TEXT, metadata TEXT);
CREATE INDEX threads_user ON chat.threads (user_id, created_at);
CREATE TABLE chat.steps (
    id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, parent_id TEXT, type TEXT, name TEXT,
    input TEXT, output TEXT, created_at TEXT, start_at TEXT, end_at TEXT, is_error INTEGER,
    show_input TEXT, language TEXT, metadata TEXT);
CREATE INDEX steps_thread ON chat.steps (thread_id);
CREATE TABLE chat.elements (
    id TEXT PRIMARY KEY, thread_id TEXT, for_id TEXT, type TEXT, name TEXT, display TEXT,
    content TEXT, language TEXT, created_at TEXT);
CREATE INDEX elements_thread ON chat.elements (thread_id);
CREATE TABLE chat.feedback (
    id TEXT PRIMARY KEY, for_id TEXT NOT NULL, thread_id TEXT, user_identifier TEXT,
    value INTEGER NOT NULL, comment TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX feedback_thread ON chat.feedback (thread_id);
