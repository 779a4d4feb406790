-- A message's class as a number, not its name: see migrations/0019_class_numbers.sql.
ALTER TABLE messages ALTER COLUMN class TYPE BIGINT USING CASE class
    WHEN 'bounce' THEN 1 WHEN 'auto_reply' THEN 2 WHEN 'opt_out' THEN 3
    WHEN 'reply' THEN 4 WHEN 'automated' THEN 5 END;
