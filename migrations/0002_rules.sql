-- The rules of a conversation need three more facts. Forward-only: columns are added, nothing
-- is dropped or rewritten.

-- When the seller's server received a message: the later of INTERNALDATE and the Date header.
-- Clocks lie (a prospect's slow clock dates a reply before the seller's follow-up), so
-- messages are applied in this order and "after the last touch" is judged by it.
ALTER TABLE messages ADD COLUMN arrived TEXT;
UPDATE messages SET arrived = date WHERE arrived IS NULL;
CREATE INDEX messages_unprocessed_arrived ON messages(processed, arrived);

-- The cadence step an event happened at: a reply is credited to the step after which it came
-- even when the seller answers it later and the conversation starts over.
ALTER TABLE events ADD COLUMN step INTEGER;

-- The Message-ID of the prospect's reply that ended the wait (in the thread): only a touch
-- that answers it starts the cadence again; a follow-up that crossed it in flight does not.
ALTER TABLE conversations ADD COLUMN last_reply_message_id TEXT;
