-- nudge's first schema. Migrations are forward-only: never drop or rewrite data here.
-- Times are RFC 3339 text in UTC; addresses are lower-case.

-- Sync state per IMAP folder (PITFALLS "Sync"): a changed UIDVALIDITY means a rescan.
CREATE TABLE folders (
    name          TEXT PRIMARY KEY,          -- the folder's IMAP name (decoded)
    role          TEXT,                      -- inbox | sent | drafts | trash
    uidvalidity   INTEGER,
    last_uid      INTEGER NOT NULL DEFAULT 0,
    highestmodseq INTEGER,
    synced_at     TEXT
);

-- Header metadata of the messages nudge has looked at; never whole mailboxes.
-- Keyed by folder + UIDVALIDITY + UID: one Message-ID may be a draft and a sent copy at once.
CREATE TABLE messages (
    id                 INTEGER PRIMARY KEY,
    folder             TEXT NOT NULL,
    uidvalidity        INTEGER NOT NULL,
    uid                INTEGER NOT NULL,
    message_id         TEXT,                 -- without angle brackets
    in_reply_to        TEXT,
    refs               TEXT NOT NULL DEFAULT '',   -- References, space separated
    gm_thrid           TEXT,                 -- X-GM-THRID on Gmail
    ms_original_id     TEXT,                 -- X-Microsoft-Original-Message-ID on Exchange
    from_addr          TEXT,
    from_name          TEXT,
    to_addrs           TEXT NOT NULL DEFAULT '[]', -- JSON array of addresses
    cc_addrs           TEXT NOT NULL DEFAULT '[]',
    subject            TEXT NOT NULL DEFAULT '',
    sent_at            TEXT,                 -- the Date header
    internal_date      TEXT,                 -- the server's INTERNALDATE
    flags              TEXT NOT NULL DEFAULT '',
    class              TEXT,                 -- touch | reply | auto_reply | bounce | opt_out | automated | other
    return_date        TEXT,                 -- from an out-of-office text
    bounced_message_id TEXT,                 -- the returned message of a bounce
    snippet            TEXT,                 -- short new text, for quoting and summaries
    conversation_id    INTEGER REFERENCES conversations(id),
    seen_at            TEXT NOT NULL,
    UNIQUE (folder, uidvalidity, uid)
);
CREATE INDEX messages_message_id ON messages(message_id);
CREATE INDEX messages_conversation ON messages(conversation_id);

-- A conversation nudge follows, and where it stands in the cadence.
CREATE TABLE conversations (
    id                 INTEGER PRIMARY KEY,
    thread_key         TEXT NOT NULL UNIQUE, -- the Message-ID of the thread's root
    subject            TEXT NOT NULL DEFAULT '',
    prospects          TEXT NOT NULL DEFAULT '[]',  -- JSON array of addresses
    state              TEXT NOT NULL CHECK (state IN ('waiting', 'drafted', 'closing', 'replied',
                           'let_go', 'bounced', 'opted_out', 'stopped', 'snoozed')),
    step               INTEGER NOT NULL DEFAULT 0,
    last_touch_message INTEGER REFERENCES messages(id),
    last_touch_at      TEXT,
    next_due           TEXT,
    not_before         TEXT,                 -- an out-of-office return date moves the due time
    snoozed_until      TEXT,
    stop_reason        TEXT,
    language           TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX conversations_state ON conversations(state, next_due);

-- Drafts nudge made. 'appending' is written before the IMAP APPEND, so a crash in between is
-- found again by Message-ID instead of making a second draft.
CREATE TABLE drafts (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    step            INTEGER NOT NULL,
    template        TEXT NOT NULL,
    variant         INTEGER NOT NULL DEFAULT 0,
    language        TEXT NOT NULL DEFAULT 'en',
    message_id      TEXT NOT NULL UNIQUE,
    folder          TEXT,
    uidvalidity     INTEGER,
    uid             INTEGER,
    state           TEXT NOT NULL CHECK (state IN ('appending', 'pending', 'edited', 'sent',
                        'withdrawn', 'dismissed')),
    created_at      TEXT NOT NULL,
    resolved_at     TEXT
);
CREATE INDEX drafts_conversation ON drafts(conversation_id, state);

-- Every state change of a conversation, appended, never changed.
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER REFERENCES conversations(id),
    at              TEXT NOT NULL,
    kind            TEXT NOT NULL,
    detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_conversation ON events(conversation_id, id);
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

-- Addresses and domains never followed up (bounced, opted out, or added by the seller).
CREATE TABLE suppressions (
    address  TEXT PRIMARY KEY,               -- an address, or a domain without '@'
    reason   TEXT NOT NULL,                  -- bounced | opted_out | manual
    added_at TEXT NOT NULL
);

-- Weekly summaries: one row per ISO week, written before sending ('sending') and after ('sent').
CREATE TABLE summaries (
    week       TEXT PRIMARY KEY,             -- ISO week, like 2026-W48
    state      TEXT NOT NULL CHECK (state IN ('sending', 'sent')),
    message_id TEXT,
    started_at TEXT NOT NULL,
    sent_at    TEXT
);

-- Small facts about this installation, such as when nudge first started.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
