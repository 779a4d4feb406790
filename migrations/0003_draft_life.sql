-- The draft's life (issue 12). Forward-only: every row of drafts is kept.
--
-- A draft whose removal failed (no MOVE, no UIDPLUS, a server error) is no longer recorded as
-- withdrawn: it waits in state 'removing' and the removal is tried again at later passes. SQLite
-- cannot change a CHECK constraint in place, so the table is rebuilt with the new state allowed
-- and every existing row copied over unchanged (nothing references drafts, so the ids can move
-- with their rows).
CREATE TABLE drafts_rebuilt (
    id                INTEGER PRIMARY KEY,
    conversation_id   INTEGER NOT NULL REFERENCES conversations(id),
    step              INTEGER NOT NULL,
    template          TEXT NOT NULL,
    variant           INTEGER NOT NULL DEFAULT 0,
    language          TEXT NOT NULL DEFAULT 'en',
    message_id        TEXT NOT NULL UNIQUE,
    folder            TEXT,
    uidvalidity       INTEGER,
    uid               INTEGER,
    state             TEXT NOT NULL CHECK (state IN ('appending', 'pending', 'edited', 'sent',
                          'withdrawn', 'dismissed', 'removing')),
    created_at        TEXT NOT NULL,
    resolved_at       TEXT,
    -- What nudge appended (SHA-256 over recipients, subject and text), written before the
    -- APPEND: a copy found later under nudge's Message-ID is nudge's own only when it matches
    -- (a client such as NeoMutt keeps the Message-ID on the seller's edited copy).
    fingerprint       TEXT,
    -- The Message-ID the draft answers (its In-Reply-To): what a sent copy or the client's
    -- replacement draft names.
    parent_message_id TEXT,
    -- The Message-ID of the seller's edited copy, when the client replaced nudge's draft: found
    -- again by it after Drafts' UIDVALIDITY changed.
    seller_message_id TEXT,
    -- Failed removals so far (state 'removing').
    removal_attempts  INTEGER NOT NULL DEFAULT 0
);

INSERT INTO drafts_rebuilt (id, conversation_id, step, template, variant, language, message_id,
        folder, uidvalidity, uid, state, created_at, resolved_at)
    SELECT id, conversation_id, step, template, variant, language, message_id,
        folder, uidvalidity, uid, state, created_at, resolved_at
    FROM drafts;

DROP TABLE drafts;
ALTER TABLE drafts_rebuilt RENAME TO drafts;
CREATE INDEX drafts_conversation ON drafts(conversation_id, state);
