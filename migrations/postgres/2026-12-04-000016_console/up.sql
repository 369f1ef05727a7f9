-- The console: sign-in links, sessions and OpenID Connect logins in flight.
-- Every secret a browser holds (a link's code, a session's cookie, a login's
-- state) is kept here only as its SHA-256, so reading this table signs no one in.

-- One-time sign-in links (`goodwill console link`, the first run).
CREATE TABLE console_links (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    code_hash   text NOT NULL UNIQUE,
    subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    role        text NOT NULL,
    stores      text NULL,
    created_by  text NOT NULL,
    created_at  timestamp NOT NULL,
    expires_at  timestamp NOT NULL,
    used_at     timestamp NULL,
    session_id  uuid NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Console sessions: any instance serves them; ending one ends it everywhere.
CREATE TABLE console_sessions (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    id            uuid NOT NULL,
    token_hash    text NOT NULL UNIQUE,
    subject       text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    role          text NOT NULL,
    stores        text NULL,
    via           text NOT NULL CHECK (via IN ('link', 'oidc')),
    created_at    timestamp NOT NULL,
    last_seen_at  timestamp NOT NULL,
    expires_at    timestamp NOT NULL,
    ended_at      timestamp NULL,
    ended_by      text NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX console_sessions_by_subject ON console_sessions (tenant_id, subject);

-- OpenID Connect logins between the redirect to the provider and its answer.
-- The PKCE verifier is kept (it must be sent to redeem the code); the state
-- and the browser binding only as hashes.
CREATE TABLE console_logins (
    id            uuid PRIMARY KEY,
    state_hash    text NOT NULL UNIQUE,
    browser_hash  text NOT NULL,
    nonce         text NOT NULL,
    verifier      text NOT NULL,
    created_at    timestamp NOT NULL,
    expires_at    timestamp NOT NULL,
    used_at       timestamp NULL
);
CREATE INDEX console_logins_by_age ON console_logins (created_at);

-- A store's time zone (IANA name): the console shows times as the store lives them.
ALTER TABLE stores ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC'
    CHECK (length(time_zone) BETWEEN 1 AND 64);
