-- Threads that went into another, instead of their keys rewritten: see
-- migrations/0018_thread_merges.sql.
CREATE TABLE thread_merges (
    thread_id   BIGINT PRIMARY KEY REFERENCES threads(id) DEFERRABLE INITIALLY IMMEDIATE,
    into_thread BIGINT NOT NULL REFERENCES threads(id) DEFERRABLE INITIALLY IMMEDIATE
);
CREATE INDEX thread_merges_into ON thread_merges(into_thread);
DROP INDEX thread_keys_thread;
