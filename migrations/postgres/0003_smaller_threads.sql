-- threads.created_at was written for every thread and never read: see
-- migrations/0014_smaller_threads.sql.
ALTER TABLE threads DROP COLUMN created_at;
