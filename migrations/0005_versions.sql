-- Several processes share the store (the daemon and the everyday commands). Each change of a
-- conversation is a conditional update on the row it read: `version` counts the changes, and
-- an update that finds another version was overtaken and is decided again on the current row.
ALTER TABLE conversations ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- One active draft per conversation, whatever two processes do at once.
UPDATE drafts SET state = 'withdrawn'
 WHERE state IN ('appending', 'pending', 'edited')
   AND id NOT IN (SELECT max(id) FROM drafts
                   WHERE state IN ('appending', 'pending', 'edited')
                   GROUP BY conversation_id);
CREATE UNIQUE INDEX drafts_one_active ON drafts(conversation_id)
 WHERE state IN ('appending', 'pending', 'edited');
