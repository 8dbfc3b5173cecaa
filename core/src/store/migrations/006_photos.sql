-- Schema 6: photos and documents on orders. The metadata lives in the
-- orders' documents; `photos` is materialised from them (which order refers
-- to which blob, and which device attached it). `blobs_uploaded` is the
-- phone's record of the blobs its server confirmed whole, so it knows what
-- is still to send after a restart.
CREATE TABLE photos (
    order_id   TEXT NOT NULL,
    photo_id   TEXT NOT NULL,
    hash       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    media_type TEXT NOT NULL,
    device     TEXT NOT NULL,
    removed    INTEGER NOT NULL,
    PRIMARY KEY (order_id, photo_id)
) STRICT;
CREATE INDEX photos_by_hash ON photos (hash);
CREATE TABLE blobs_uploaded (
    hash  TEXT PRIMARY KEY,
    at_ms INTEGER NOT NULL
) STRICT;
