-- The audit trail (assistant/audit/postgres.py): the same rows, hash chain and checkpoint as the
-- SQLite file, with the same protective triggers. Rows are only appended, one server at a time
-- (the writer holds the checkpoint row's lock for its transaction).
CREATE TABLE audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE audit_events (
    "seq" BIGINT PRIMARY KEY,
    "time" TEXT NOT NULL,
    "user" TEXT NOT NULL,
    "groups" TEXT NOT NULL,
    "surface" TEXT NOT NULL,
    "redacted_question" TEXT NOT NULL,
    "redacted_kinds" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "cited_chunk_ids" TEXT NOT NULL,
    "abstained" INTEGER NOT NULL,
    "blocked" INTEGER NOT NULL,
    "session_id" TEXT,
    "answer_id" TEXT,
    "prev_hash" TEXT NOT NULL,
    "row_hash" TEXT NOT NULL
);
CREATE INDEX audit_events_time ON audit_events ("time");
CREATE INDEX audit_events_row_hash ON audit_events ("row_hash");

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    row_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, row_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END $$;

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS DISTINCT FROM (SELECT seq FROM audit_head WHERE id = 1) + 1
       OR NEW.prev_hash IS DISTINCT FROM (SELECT row_hash FROM audit_head WHERE id = 1) THEN
        RAISE EXCEPTION 'audit rows are only appended, after the checkpoint';
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM 1 OR NEW.seq IS DISTINCT FROM OLD.seq + 1
       OR NEW.row_hash IS DISTINCT FROM (SELECT row_hash FROM audit_events WHERE seq = NEW.seq) THEN
        RAISE EXCEPTION 'the audit checkpoint only moves forward, to the new last row';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER events_no_update BEFORE UPDATE ON audit_events FOR EACH ROW
EXECUTE FUNCTION audit_refuse('the audit trail is append-only: rows cannot be changed');
CREATE TRIGGER events_no_delete BEFORE DELETE ON audit_events FOR EACH ROW
EXECUTE FUNCTION audit_refuse('the audit trail is append-only: rows cannot be deleted');
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT
EXECUTE FUNCTION audit_refuse('the audit trail is append-only: rows cannot be deleted');
CREATE TRIGGER events_append_only BEFORE INSERT ON audit_events FOR EACH ROW
EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER head_forward BEFORE UPDATE ON audit_head FOR EACH ROW
EXECUTE FUNCTION audit_head_forward();
CREATE TRIGGER head_no_delete BEFORE DELETE ON audit_head FOR EACH ROW
EXECUTE FUNCTION audit_refuse('the audit checkpoint cannot be deleted');
CREATE TRIGGER meta_no_update BEFORE UPDATE ON audit_meta FOR EACH ROW
EXECUTE FUNCTION audit_refuse('the audit trail settings cannot be changed');
CREATE TRIGGER meta_no_delete BEFORE DELETE ON audit_meta FOR EACH ROW
EXECUTE FUNCTION audit_refuse('the audit trail settings cannot be deleted');
