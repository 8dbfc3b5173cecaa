-- Schema 4: refused work is kept, never dropped.
-- On a device: the quarantine. Changes the server refused move here from
-- the outbox (in one transaction), with why, when and what they touched,
-- until the engineer or support discards them deliberately.
CREATE TABLE quarantine (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id        TEXT NOT NULL,
    hash          BLOB NOT NULL,
    bytes         BLOB NOT NULL,
    reason        TEXT NOT NULL,
    intent        TEXT NOT NULL,
    touched       TEXT NOT NULL,
    made_at_ms    INTEGER NOT NULL,
    refused_at_ms INTEGER NOT NULL,
    UNIQUE (doc_id, hash)
) STRICT;

-- On the server: every refusal of a device's push, for the desk and support.
CREATE TABLE refusals (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id  TEXT NOT NULL,
    engineer   TEXT NOT NULL,
    doc_id     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    at_ms      INTEGER NOT NULL
) STRICT;

CREATE INDEX refusals_by_doc ON refusals (doc_id, id);
CREATE INDEX refusals_by_device ON refusals (device_id, id);
