-- BriefSync server schema, SQLite, version 7: stamps pulled back by the clock-skew bound, each
-- admitted once. Released migrations never change; add new files.

-- A stamp more than the bound ahead of the server's clock is stored pulled back to the server's
-- time (ClockSkewPolicy). A copy of a device's store (a restored backup) pushes the queue it
-- copied again, under a new incarnation; pulled back again, later, an old edit would beat newer
-- ones. So the server keeps the wall time each stamp was first admitted at, and admits it the
-- same way whenever it comes again. Only stamps of fast clocks get a row.
CREATE TABLE clamped_stamps (
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id     TEXT NOT NULL,
    wall          INTEGER NOT NULL,   -- the stamp as pushed
    counter       INTEGER NOT NULL,
    admitted_wall INTEGER NOT NULL,   -- the wall time it was pulled back to
    PRIMARY KEY (user_id, device_id, wall, counter)
) WITHOUT ROWID;
