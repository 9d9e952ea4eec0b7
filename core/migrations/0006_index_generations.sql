-- The index every server reads (core/index/shared.py), when database.url is set and Chroma
-- runs as a server: each generation's files (chunk texts, documents, the query adapter) and which
-- generation is live. An ingest on any machine publishes its generation and switches `live` in
-- one transaction; servers follow it within seconds. Vectors stay in the Chroma server.
CREATE SCHEMA index_state;
CREATE TABLE index_state.generations (
    gen_id TEXT PRIMARY KEY,
    pointer JSONB NOT NULL,
    published_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE index_state.files (
    gen_id TEXT NOT NULL REFERENCES index_state.generations (gen_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content BYTEA NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (gen_id, name)
);
CREATE TABLE index_state.live (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    gen_id TEXT NOT NULL REFERENCES index_state.generations (gen_id),
    switched_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
