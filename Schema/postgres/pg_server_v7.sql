-- BriefSync server schema, PostgreSQL, version 7: stamps pulled back by the clock-skew bound,
-- each admitted once, as Schema/sqlite/server_v7.sql. Released migrations never change; add new files.
-- Statements end with ";" at the end of a line: the migrator runs them one by one.

CREATE TABLE clamped_stamps (
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id     TEXT NOT NULL,
    wall          BIGINT NOT NULL,
    counter       BIGINT NOT NULL,
    admitted_wall BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_id, wall, counter)
);
