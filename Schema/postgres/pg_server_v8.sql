-- BriefSync server schema, PostgreSQL, version 8: each topic's count of live briefs, kept by
-- triggers, as Schema/sqlite/server_v8.sql (which says why). Released migrations never change;
-- add new files. Statements end with ";" at the end of a line: the migrator runs them one by one,
-- so inside the trigger function each ";" begins a line instead.

ALTER TABLE topics ADD COLUMN live_briefs BIGINT NOT NULL DEFAULT 0;

UPDATE topics SET live_briefs = (
    SELECT COUNT(*) FROM briefs b WHERE b.topic_id = topics.id AND b.retracted_at IS NULL
);

CREATE FUNCTION briefs_count_live() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.retracted_at IS NULL THEN
        UPDATE topics SET live_briefs = live_briefs - 1 WHERE id = OLD.topic_id
    ; END IF
    ; IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.retracted_at IS NULL THEN
        UPDATE topics SET live_briefs = live_briefs + 1 WHERE id = NEW.topic_id
    ; END IF
    ; RETURN NULL
    ; END
$$;

CREATE TRIGGER briefs_live_inserted_or_deleted AFTER INSERT OR DELETE ON briefs
FOR EACH ROW EXECUTE FUNCTION briefs_count_live();

-- an upsert that finds the brief updates it, and fires this one, not the insert's
CREATE TRIGGER briefs_live_updated AFTER UPDATE OF topic_id, retracted_at ON briefs
FOR EACH ROW WHEN (OLD.topic_id IS DISTINCT FROM NEW.topic_id OR (OLD.retracted_at IS NULL) <> (NEW.retracted_at IS NULL))
EXECUTE FUNCTION briefs_count_live();
