-- Schema 3: the change log. On a device it is the outbox: changes made here
-- that the server has not acknowledged yet (deleted once acknowledged). On
-- the server it is the log devices pull from, in server sequence order, with
-- the device each change came from.
CREATE TABLE changes (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL,
    hash   BLOB NOT NULL,
    bytes  BLOB NOT NULL,
    origin TEXT NOT NULL,
    UNIQUE (doc_id, hash)
) STRICT;

CREATE INDEX changes_by_doc ON changes (doc_id, seq);

-- Server: which engineer may see which order, since which log position.
-- A revoked grant still lets the engineer's devices push what they did
-- while the order was theirs.
CREATE TABLE grants (
    doc_id      TEXT NOT NULL,
    engineer    TEXT NOT NULL,
    granted_seq INTEGER NOT NULL,
    revoked_seq INTEGER,
    PRIMARY KEY (doc_id, engineer)
) STRICT;

CREATE INDEX grants_by_engineer ON grants (engineer, granted_seq);
