-- Directory schema 3: each enrolled device's P-256 public key, pinned at
-- enrolment, that its signatures, consents and QC records are verified
-- against (decision 0017). Revoking the device marks its key revoked.
CREATE TABLE device_keys (
    tenant         TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    public_key     TEXT NOT NULL,
    backing        TEXT NOT NULL CHECK (backing IN ('hardware', 'software')),
    enrolled_at_ms BIGINT NOT NULL,
    revoked        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, device_id)
);
