-- The directory (SQLite's 001_directory.sql in PostgreSQL's types).
CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE people (
    tenant TEXT NOT NULL REFERENCES tenants (id),
    id     TEXT NOT NULL,
    name   TEXT NOT NULL,
    role   TEXT NOT NULL CHECK (role IN ('engineer', 'dispatcher')),
    PRIMARY KEY (tenant, id)
);
CREATE TABLE tokens (
    hash      TEXT PRIMARY KEY,
    tenant    TEXT NOT NULL,
    person    TEXT NOT NULL,
    role      TEXT NOT NULL,
    device_id TEXT,
    revoked   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX tokens_by_device ON tokens (tenant, device_id);
CREATE TABLE board_logins (
    tenant     TEXT NOT NULL,
    person     TEXT NOT NULL,
    password   TEXT NOT NULL,
    supervisor BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, person),
    FOREIGN KEY (tenant, person) REFERENCES people (tenant, id)
);
CREATE TABLE board_sessions (
    hash       TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    person     TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE TABLE enrolment_codes (
    hash     TEXT PRIMARY KEY,
    tenant   TEXT NOT NULL,
    engineer TEXT NOT NULL,
    used     BIGINT NOT NULL DEFAULT 0
);
