-- Schema 2: what rework detection looks up (unit, fault, when repaired) and
-- the van stock levels as rows. Rows of existing orders are filled from their
-- documents by the migration step that runs this file.
ALTER TABLE orders ADD COLUMN serial TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN fault_code TEXT;
ALTER TABLE orders ADD COLUMN fault_kind TEXT;
ALTER TABLE orders ADD COLUMN parts_replaced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN repaired_at_ms INTEGER;
ALTER TABLE orders ADD COLUMN is_open INTEGER NOT NULL DEFAULT 1;

CREATE INDEX orders_by_unit ON orders (serial, fault_code);
CREATE INDEX orders_open_by_urgency ON orders (is_open, urgent DESC, next_due_at_ms);

CREATE TABLE stock_levels (
    engineer  TEXT NOT NULL,
    sku       TEXT NOT NULL,
    on_hand   INTEGER NOT NULL,
    PRIMARY KEY (engineer, sku)
) STRICT, WITHOUT ROWID;
