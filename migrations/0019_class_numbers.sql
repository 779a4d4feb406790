-- A message's class as a number, not its name: one byte where "auto_reply" took ten, about
-- 4 bytes a message of a mailbox. The numbers are src/store/mapping.rs `CLASSES`': bounce 1,
-- auto_reply 2, opt_out 3, reply 4, automated 5. A name no nudge wrote becomes none, as a
-- reader of the name took it.
ALTER TABLE messages ADD COLUMN class_code INTEGER;
UPDATE messages SET class_code = CASE class
        WHEN 'bounce' THEN 1 WHEN 'auto_reply' THEN 2 WHEN 'opt_out' THEN 3
        WHEN 'reply' THEN 4 WHEN 'automated' THEN 5 END
    WHERE class IS NOT NULL;
ALTER TABLE messages DROP COLUMN class;
ALTER TABLE messages RENAME COLUMN class_code TO class;
