-- A Message-ID is threaded by a key, the first eight bytes of its SHA-256 read as a signed
-- big-endian integer, instead of by its text: see migrations/0015_thread_keys.sql. The key
-- computed here must be the one nudge computes (`store::messages::thread_key`).
CREATE TABLE thread_keys (
    key       BIGINT PRIMARY KEY,
    thread_id BIGINT NOT NULL REFERENCES threads(id) DEFERRABLE INITIALLY IMMEDIATE
);
INSERT INTO thread_keys (key, thread_id)
SELECT ('x' || encode(substring(sha256(convert_to(message_id, 'UTF8')) FROM 1 FOR 8), 'hex'))
           ::bit(64)::bigint,
       thread_id
  FROM thread_ids
    ON CONFLICT (key) DO NOTHING;
DROP TABLE thread_ids;
CREATE INDEX thread_keys_thread ON thread_keys(thread_id);
