-- Schema 4: photos and documents on orders (as SQLite's schema 6), and the
-- server's blobs, which every process sharing the database reads: a blob's
-- bytes as parts of at most 1 MiB in order, counted only once `blobs_held`
-- names it, after its SHA-256 and its kind were checked.
CREATE TABLE photos (
    order_id   TEXT NOT NULL,
    photo_id   TEXT NOT NULL,
    hash       TEXT NOT NULL,
    size       BIGINT NOT NULL,
    media_type TEXT NOT NULL,
    device     TEXT NOT NULL,
    removed    BIGINT NOT NULL,
    PRIMARY KEY (order_id, photo_id)
);
CREATE INDEX photos_by_hash ON photos (hash);
CREATE TABLE blobs_uploaded (
    hash  TEXT PRIMARY KEY,
    at_ms BIGINT NOT NULL
);
CREATE TABLE blob_parts (
    hash          TEXT NOT NULL,
    at_byte       BIGINT NOT NULL,
    bytes         BYTEA NOT NULL,
    written_at_ms BIGINT NOT NULL,
    PRIMARY KEY (hash, at_byte)
);
CREATE TABLE blobs_held (
    hash         TEXT PRIMARY KEY,
    size         BIGINT NOT NULL,
    media_type   TEXT NOT NULL,
    stored_at_ms BIGINT NOT NULL
);
