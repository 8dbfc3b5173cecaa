-- PostgreSQL schema 2: SQLite schema 4 (the device's quarantine, kept for
-- one schema everywhere, and the server's log of refused pushes).
CREATE TABLE quarantine (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    doc_id        TEXT NOT NULL,
    hash          BYTEA NOT NULL,
    bytes         BYTEA NOT NULL,
    reason        TEXT NOT NULL,
    intent        TEXT NOT NULL,
    touched       TEXT NOT NULL,
    made_at_ms    BIGINT NOT NULL,
    refused_at_ms BIGINT NOT NULL,
    UNIQUE (doc_id, hash)
);

CREATE TABLE refusals (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id  TEXT NOT NULL,
    engineer   TEXT NOT NULL,
    doc_id     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    bytes      BIGINT NOT NULL,
    at_ms      BIGINT NOT NULL
);

CREATE INDEX refusals_by_doc ON refusals (doc_id, id);
CREATE INDEX refusals_by_device ON refusals (device_id, id);
