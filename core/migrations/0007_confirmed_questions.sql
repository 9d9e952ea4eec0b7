-- Questions privacy officers confirm a passage answers, where the index is shared (database.url
-- and a Chroma server): every server adds a new one to its question index within seconds, and
-- every ingest's question index holds them (core/index/shared.py). Only the PHI guard's
-- redacted text is stored.
CREATE TABLE index_state.confirmed_questions (
    id BIGSERIAL PRIMARY KEY,
    locator TEXT NOT NULL,
    question TEXT NOT NULL,
    confirmed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (locator, question)
);
