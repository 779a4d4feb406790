-- What the sellers of a team share on their PostgreSQL store, in the schema nudge_team beside
-- each account's own schema. Forward-only. Rows of several teams may share it: every table
-- is keyed by the team's name.

-- Who is in which team, as each member's config says, and where their rows live.
CREATE TABLE members (
    team         TEXT NOT NULL,
    account      TEXT COLLATE "C" NOT NULL,
    name         TEXT NOT NULL,
    schema_name  TEXT NOT NULL,
    lead         TEXT,
    overlap_days BIGINT NOT NULL,
    seen_at      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (team, account)
);

-- The team's suppression list: consent is the company's. `added_by` is the member whose
-- mailbox (or command) put it there; `seq` orders additions for the members who look for
-- new ones.
CREATE TABLE suppressions (
    seq      BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    team     TEXT NOT NULL,
    address  TEXT COLLATE "C" NOT NULL,
    reason   TEXT NOT NULL,
    added_at TEXT COLLATE "C" NOT NULL,
    added_by TEXT NOT NULL,
    PRIMARY KEY (team, address)
);

-- Each member's latest touch of each organisation (the PSL domain of a prospect): what a
-- colleague's follow-up to the same organisation waits for.
CREATE TABLE touches (
    team       TEXT NOT NULL,
    org_domain TEXT COLLATE "C" NOT NULL,
    account    TEXT COLLATE "C" NOT NULL,
    last_at    TEXT COLLATE "C" NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (team, org_domain, account)
);
