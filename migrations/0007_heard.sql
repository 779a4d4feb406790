-- no-transaction
-- What the prospect said (issue 15). Forward-only: every row is kept.
--
-- A reply that says "come back after the summer" makes the conversation `deferred` until then;
-- one that says the person has left makes it `departed`; `nudge done` makes it `done`. SQLite
-- cannot change the CHECK constraint on `state` in place, so the table is rebuilt with the new
-- states allowed and every row copied over unchanged, in the order SQLite documents for a
-- table that other tables reference: foreign keys off for the copy (they are per connection,
-- and a transaction cannot change them), checked afterwards, and on again.
--
-- `heard` (on conversations and messages) is JSON: the deferral (the prospect's words and the
-- first day of the period they named), the departure (the words and the replacement addresses
-- the text names) and whether the reply asks the seller something. NULL when nothing was heard.
PRAGMA foreign_keys = OFF;

BEGIN;

DROP TABLE IF EXISTS conversations_rebuilt;
CREATE TABLE conversations_rebuilt (
    id                    INTEGER PRIMARY KEY,
    thread_id             INTEGER NOT NULL UNIQUE REFERENCES threads(id),
    subject               TEXT NOT NULL DEFAULT '',
    prospects             TEXT NOT NULL DEFAULT '[]',  -- JSON array of addresses
    state                 TEXT NOT NULL CHECK (state IN ('waiting', 'drafted', 'closing',
                              'replied', 'let_go', 'bounced', 'opted_out', 'stopped', 'snoozed',
                              'deferred', 'departed', 'done')),
    step                  INTEGER NOT NULL DEFAULT 0,
    first_touch_at        TEXT NOT NULL,
    last_touch_message    INTEGER REFERENCES messages(id),
    last_touch_at         TEXT NOT NULL,
    last_inbound_at       TEXT,
    replied_after_step    INTEGER,
    next_due              TEXT,
    not_before            TEXT,
    wait_from             TEXT,
    snoozed_until         TEXT,
    stop_reason           TEXT,
    language              TEXT,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    last_reply_message_id TEXT,
    version               INTEGER NOT NULL DEFAULT 0,
    heard                 TEXT
);

INSERT INTO conversations_rebuilt (id, thread_id, subject, prospects, state, step,
        first_touch_at, last_touch_message, last_touch_at, last_inbound_at, replied_after_step,
        next_due, not_before, wait_from, snoozed_until, stop_reason, language, created_at,
        updated_at, last_reply_message_id, version)
    SELECT id, thread_id, subject, prospects, state, step,
        first_touch_at, last_touch_message, last_touch_at, last_inbound_at, replied_after_step,
        next_due, not_before, wait_from, snoozed_until, stop_reason, language, created_at,
        updated_at, last_reply_message_id, version
    FROM conversations;

DROP TABLE conversations;
ALTER TABLE conversations_rebuilt RENAME TO conversations;
CREATE INDEX conversations_state ON conversations(state, next_due);

ALTER TABLE messages ADD COLUMN heard TEXT;

COMMIT;

PRAGMA foreign_keys = ON;
