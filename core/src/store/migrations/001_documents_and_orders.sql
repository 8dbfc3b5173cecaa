-- Schema 1: documents (one Automerge document each, as a snapshot plus
-- incremental chunks) and the materialised order rows lists are served from.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE documents (
    doc_id      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('work_order', 'van_stock', 'catalog')),
    snapshot    BLOB NOT NULL,
    chunk_count INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE doc_chunks (
    doc_id TEXT NOT NULL REFERENCES documents (doc_id) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    bytes  BLOB NOT NULL,
    PRIMARY KEY (doc_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE orders (
    id              TEXT PRIMARY KEY REFERENCES documents (doc_id),
    status          TEXT NOT NULL,
    urgent          INTEGER NOT NULL,
    assignee        TEXT,
    customer_name   TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    next_due_at_ms  INTEGER,
    next_due_clock  TEXT,
    updated_at_ms   INTEGER NOT NULL
) STRICT;

CREATE INDEX orders_by_status ON orders (status, urgent DESC, next_due_at_ms);
CREATE INDEX orders_by_urgency ON orders (urgent DESC, next_due_at_ms);
CREATE INDEX orders_by_assignee ON orders (assignee);
CREATE INDEX orders_by_customer ON orders (customer_name);
