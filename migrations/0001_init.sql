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

-- Threads: messages linked by Message-ID / In-Reply-To / References (and X-GM-THRID as
-- "gm:<id>"). Every id ever seen points at its thread; a message naming ids of two threads
-- merges them, so children that arrive before their parents still join up.
CREATE TABLE threads (
    id         INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL
);

CREATE TABLE thread_ids (
    message_id TEXT PRIMARY KEY,             -- without angle brackets
    thread_id  INTEGER NOT NULL REFERENCES threads(id)
);
CREATE INDEX thread_ids_thread ON thread_ids(thread_id);

-- Header metadata of the messages nudge has looked at; never whole mailboxes.
-- Keyed by folder + UIDVALIDITY + UID: one Message-ID may be a draft and a sent copy at once.
CREATE TABLE messages (
    id                 INTEGER PRIMARY KEY,
    folder             TEXT NOT NULL,
    uidvalidity        INTEGER NOT NULL,
    uid                INTEGER NOT NULL,
    thread_id          INTEGER NOT NULL REFERENCES threads(id),
    message_id         TEXT,                 -- without angle brackets
    in_reply_to        TEXT NOT NULL DEFAULT '',   -- space separated
    refs               TEXT NOT NULL DEFAULT '',   -- References, space separated
    from_addr          TEXT NOT NULL DEFAULT '',
    from_name          TEXT,
    to_addrs           TEXT NOT NULL DEFAULT '[]', -- JSON array of {address, name}
    cc_addrs           TEXT NOT NULL DEFAULT '[]',
    subject            TEXT NOT NULL DEFAULT '',
    date               TEXT NOT NULL,        -- the Date header, else the INTERNALDATE
    flags              TEXT NOT NULL DEFAULT '',
    from_seller        INTEGER NOT NULL DEFAULT 0,
    automated          INTEGER NOT NULL DEFAULT 0, -- list mail, Auto-Submitted, nudge's summary
    class              TEXT,                 -- inbound: reply | auto_reply | bounce | opt_out | automated
    return_date        TEXT,                 -- from an out-of-office text
    bounced_message_id TEXT,                 -- the returned message of a bounce
    bounced_recipient  TEXT,
    snippet            TEXT NOT NULL DEFAULT '', -- short new text, for quoting and summaries
    has_body           INTEGER NOT NULL DEFAULT 0, -- the text was fetched and classified
    processed          INTEGER NOT NULL DEFAULT 0, -- its effect on conversations is applied
    seen_at            TEXT NOT NULL,
    UNIQUE (folder, uidvalidity, uid)
);
CREATE INDEX messages_unprocessed ON messages(processed, date);
CREATE INDEX messages_message_id ON messages(message_id);
CREATE INDEX messages_thread ON messages(thread_id, date);
CREATE INDEX messages_from ON messages(from_addr);

-- Addresses the seller has written to, and their organisation domains: an inbound message
-- from one of them (or a colleague of theirs) may be a reply even outside the thread.
CREATE TABLE contacts (
    address    TEXT PRIMARY KEY,
    org_domain TEXT NOT NULL,
    last_sent  TEXT NOT NULL
);
CREATE INDEX contacts_org ON contacts(org_domain);

-- A conversation nudge follows, and where it stands in the cadence.
CREATE TABLE conversations (
    id                 INTEGER PRIMARY KEY,
    thread_id          INTEGER NOT NULL UNIQUE REFERENCES threads(id),
    subject            TEXT NOT NULL DEFAULT '',
    prospects          TEXT NOT NULL DEFAULT '[]',  -- JSON array of addresses
    state              TEXT NOT NULL CHECK (state IN ('waiting', 'drafted', 'closing', 'replied',
                           'let_go', 'bounced', 'opted_out', 'stopped', 'snoozed')),
    step               INTEGER NOT NULL DEFAULT 0,
    first_touch_at     TEXT NOT NULL,
    last_touch_message INTEGER REFERENCES messages(id),
    last_touch_at      TEXT NOT NULL,
    last_inbound_at    TEXT,
    replied_after_step INTEGER,
    next_due           TEXT,
    not_before         TEXT,                 -- an out-of-office return date moves the due time
    wait_from          TEXT,                 -- a dismissed draft skipped: the next wait counts from here
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
