-- BriefSync server schema, SQLite, version 8: each topic's count of live briefs, kept by triggers.
-- Released migrations never change; add new files.

-- A follow or unfollow answers with the topic's status, which says how many live briefs it has,
-- as GET /v1/topics does. Counted at each request, that read every brief of the topic: following
-- a topic of 10,000 briefs took 4.5 times as long as one of 100 (brief-bench follow-cost), where
-- following is meant to cost the same whatever the topic holds. So the count is kept with the
-- topic, by triggers, which every way of writing a brief (publish, correct, retract, return,
-- purge) goes through: exact by construction, in one place for both stores.
ALTER TABLE topics ADD COLUMN live_briefs INTEGER NOT NULL DEFAULT 0;

UPDATE topics SET live_briefs = (
    SELECT COUNT(*) FROM briefs b WHERE b.topic_id = topics.id AND b.retracted_at IS NULL
);

CREATE TRIGGER briefs_live_inserted AFTER INSERT ON briefs WHEN NEW.retracted_at IS NULL
BEGIN
    UPDATE topics SET live_briefs = live_briefs + 1 WHERE id = NEW.topic_id;
END;

CREATE TRIGGER briefs_live_deleted AFTER DELETE ON briefs WHEN OLD.retracted_at IS NULL
BEGIN
    UPDATE topics SET live_briefs = live_briefs - 1 WHERE id = OLD.topic_id;
END;

-- an upsert that finds the brief updates it, and fires this one, not the insert's
CREATE TRIGGER briefs_live_updated AFTER UPDATE OF topic_id, retracted_at ON briefs
WHEN OLD.topic_id IS NOT NEW.topic_id OR (OLD.retracted_at IS NULL) != (NEW.retracted_at IS NULL)
BEGIN
    UPDATE topics SET live_briefs = live_briefs - 1 WHERE id = OLD.topic_id AND OLD.retracted_at IS NULL;
    UPDATE topics SET live_briefs = live_briefs + 1 WHERE id = NEW.topic_id AND NEW.retracted_at IS NULL;
END;
