-- The lead's weekly team summary: one row per team and ISO week, claimed by the member whose
-- pass sends it ('sending'), so it goes out once however many members run. A certain failure
-- deletes the claim (a later pass tries again); an unknown outcome keeps it, never sent twice.
CREATE TABLE team_summaries (
    team       TEXT NOT NULL,
    week       TEXT COLLATE "C" NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'unknown')),
    claimed_by TEXT NOT NULL,
    message_id TEXT NOT NULL,
    started_at TEXT COLLATE "C" NOT NULL,
    sent_at    TEXT COLLATE "C",
    PRIMARY KEY (team, week)
);
