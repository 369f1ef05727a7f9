-- The console: sign-in links, sessions and OpenID Connect logins in flight.
-- Every secret a browser holds (a link's code, a session's cookie, a login's
-- state) is kept here only as its SHA-256, so reading this table signs no one in.

-- One-time sign-in links (`goodwill console link`, the first run).
CREATE TABLE console_links (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL,
    code_hash   TEXT NOT NULL UNIQUE,
    subject     TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    role        TEXT NOT NULL,
    stores      TEXT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP NULL,
    session_id  TEXT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Console sessions: any instance serves them; ending one ends it everywhere.
CREATE TABLE console_sessions (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    subject       TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    role          TEXT NOT NULL,
    stores        TEXT NULL,
    via           TEXT NOT NULL CHECK (via IN ('link', 'oidc')),
    created_at    TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL,
    ended_at      TIMESTAMP NULL,
    ended_by      TEXT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX console_sessions_by_subject ON console_sessions (tenant_id, subject);

-- OpenID Connect logins between the redirect to the provider and its answer.
-- The PKCE verifier is kept (it must be sent to redeem the code); the state
-- and the browser binding only as hashes.
CREATE TABLE console_logins (
    id            TEXT PRIMARY KEY,
    state_hash    TEXT NOT NULL UNIQUE,
    browser_hash  TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    verifier      TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL,
    used_at       TIMESTAMP NULL
);
CREATE INDEX console_logins_by_age ON console_logins (created_at);

-- A store's time zone (IANA name): the console shows times as the store lives them.
ALTER TABLE stores ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC'
    CHECK (length(time_zone) BETWEEN 1 AND 64);
