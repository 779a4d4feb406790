-- Where each conversation's prospects are, for lookups by address and organisation without
-- searching every conversation: see migrations/0013_conversation_domains.sql. ASCII lower
-- case, as nudge writes it (PostgreSQL's lower() would fold other letters too).
CREATE TABLE conversation_domains (
    domain          TEXT COLLATE "C" NOT NULL,
    conversation_id BIGINT NOT NULL,
    PRIMARY KEY (domain, conversation_id)
);
CREATE INDEX conversation_domains_conversation ON conversation_domains(conversation_id);

WITH RECURSIVE d(conversation_id, domain) AS (
    SELECT c.id, translate(substr(p.value, strpos(p.value, '@') + 1),
                           'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
      FROM conversations AS c, json_array_elements_text(c.prospects::json) AS p(value)
    UNION
    SELECT conversation_id, substr(domain, strpos(domain, '.') + 1)
      FROM d WHERE strpos(domain, '.') > 0
)
INSERT INTO conversation_domains (domain, conversation_id)
SELECT domain, conversation_id FROM d WHERE domain <> ''
ON CONFLICT DO NOTHING;
