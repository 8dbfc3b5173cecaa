-- PostgreSQL schema 1: the SQLite schema 3 in PostgreSQL's types (one schema
-- per tenant), and the write generation processes sharing it need: every
-- write bumps `store_generation` and stamps the documents it wrote, so a
-- process taking the lock drops only the documents others wrote since.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE store_generation (generation BIGINT NOT NULL);
INSERT INTO store_generation (generation) VALUES (0);

CREATE TABLE documents (
    doc_id      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('work_order', 'van_stock', 'catalog')),
    snapshot    BYTEA NOT NULL,
    chunk_count BIGINT NOT NULL DEFAULT 0,
    generation  BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX documents_by_generation ON documents (generation);

CREATE TABLE doc_chunks (
    doc_id TEXT NOT NULL REFERENCES documents (doc_id) ON DELETE CASCADE,
    seq    BIGINT NOT NULL,
    bytes  BYTEA NOT NULL,
    PRIMARY KEY (doc_id, seq)
);

CREATE TABLE orders (
    id              TEXT PRIMARY KEY REFERENCES documents (doc_id),
    status          TEXT NOT NULL,
    urgent          BIGINT NOT NULL,
    assignee        TEXT,
    customer_name   TEXT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    next_due_at_ms  BIGINT,
    next_due_clock  TEXT,
    updated_at_ms   BIGINT NOT NULL,
    serial          TEXT NOT NULL DEFAULT '',
    fault_code      TEXT,
    fault_kind      TEXT,
    parts_replaced  BIGINT NOT NULL DEFAULT 0,
    repaired_at_ms  BIGINT,
    is_open         BIGINT NOT NULL DEFAULT 1
);

CREATE INDEX orders_by_status ON orders (status, urgent DESC, next_due_at_ms);
CREATE INDEX orders_by_urgency ON orders (urgent DESC, next_due_at_ms);
CREATE INDEX orders_by_assignee ON orders (assignee);
CREATE INDEX orders_by_customer ON orders (customer_name);
CREATE INDEX orders_by_unit ON orders (serial, fault_code);
CREATE INDEX orders_open_by_urgency ON orders (is_open, urgent DESC, next_due_at_ms);

CREATE TABLE stock_levels (
    engineer  TEXT NOT NULL,
    sku       TEXT NOT NULL,
    on_hand   BIGINT NOT NULL,
    PRIMARY KEY (engineer, sku)
);

-- The log devices pull from. Sequence numbers are taken while the writer
-- holds the tenant's lock, so they commit in order and a cursor never skips
-- a change committed late.
CREATE TABLE changes (
    seq    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    doc_id TEXT NOT NULL,
    hash   BYTEA NOT NULL,
    bytes  BYTEA NOT NULL,
    origin TEXT NOT NULL,
    UNIQUE (doc_id, hash)
);

CREATE INDEX changes_by_doc ON changes (doc_id, seq);

CREATE TABLE grants (
    doc_id      TEXT NOT NULL,
    engineer    TEXT NOT NULL,
    granted_seq BIGINT NOT NULL,
    revoked_seq BIGINT,
    PRIMARY KEY (doc_id, engineer)
);

CREATE INDEX grants_by_engineer ON grants (engineer, granted_seq);
