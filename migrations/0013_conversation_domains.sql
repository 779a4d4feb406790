-- Where each conversation's prospects are (issue 10): a pass of a few new messages loads only
-- the conversations they can concern, by thread, by address and by organisation. Finding
-- them by address or organisation searched the prospects of every conversation: at 100,000
-- messages (21,000 conversations) about 10 ms of every pass that reads a reply. This table
-- makes it an index lookup.
--
-- One row per domain a prospect is at and each of its parent domains ("sales.acme.no",
-- "acme.no", "no"): the part of the address after its first '@' (the whole value without
-- one), ASCII lower case, as src/store/conversations.rs `prospect_domains` writes it. An
-- address is looked up by its domain, an organisation by itself: a superset of what the
-- conversation query then tests on the prospects themselves.
CREATE TABLE conversation_domains (
    domain          TEXT NOT NULL,
    conversation_id INTEGER NOT NULL,
    PRIMARY KEY (domain, conversation_id)
) WITHOUT ROWID;
CREATE INDEX conversation_domains_conversation ON conversation_domains(conversation_id);

WITH RECURSIVE d(conversation_id, domain) AS (
    SELECT c.id, lower(substr(p.value, instr(p.value, '@') + 1))
      FROM conversations AS c, json_each(c.prospects) AS p
    UNION
    SELECT conversation_id, substr(domain, instr(domain, '.') + 1)
      FROM d WHERE instr(domain, '.') > 0
)
INSERT OR IGNORE INTO conversation_domains (domain, conversation_id)
SELECT domain, conversation_id FROM d WHERE domain <> '';
