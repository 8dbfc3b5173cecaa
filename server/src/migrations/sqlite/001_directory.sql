-- The directory: tenants, people, hashed tokens, board sign-ins and
-- sessions, enrolment codes.
CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS people (
    tenant TEXT NOT NULL REFERENCES tenants (id),
    id     TEXT NOT NULL,
    name   TEXT NOT NULL,
    role   TEXT NOT NULL CHECK (role IN ('engineer', 'dispatcher')),
    PRIMARY KEY (tenant, id)
) STRICT;
CREATE TABLE IF NOT EXISTS tokens (
    hash      TEXT PRIMARY KEY,
    tenant    TEXT NOT NULL,
    person    TEXT NOT NULL,
    role      TEXT NOT NULL,
    device_id TEXT,
    revoked   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE IF NOT EXISTS board_logins (
    tenant     TEXT NOT NULL,
    person     TEXT NOT NULL,
    password   TEXT NOT NULL,
    supervisor INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, person),
    FOREIGN KEY (tenant, person) REFERENCES people (tenant, id)
) STRICT;
CREATE TABLE IF NOT EXISTS board_sessions (
    hash       TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    person     TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS enrolment_codes (
    hash     TEXT PRIMARY KEY,
    tenant   TEXT NOT NULL,
    engineer TEXT NOT NULL,
    used     INTEGER NOT NULL DEFAULT 0
) STRICT;
