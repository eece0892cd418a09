-- +goose Up
-- api_tokens: personal access tokens and teams' service tokens for /api/v1.
-- Only a SHA-256 of the secret is kept (the secret is 32 random bytes, so a
-- slow hash adds nothing); the secret is shown once, at creation.
CREATE TABLE api_tokens (
    id                 uuid PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('personal', 'service')),
    name               text NOT NULL,
    secret_hash        bytea NOT NULL UNIQUE,
    -- owner: the person (personal) or the team (service) whose current
    -- rights the token acts with; owner_groups are refreshed at each sign-in.
    owner_subject      text NOT NULL,
    owner_email        text NOT NULL DEFAULT '',
    owner_name         text NOT NULL DEFAULT '',
    owner_groups       text[] NOT NULL DEFAULT '{}',
    team               text NOT NULL DEFAULT '',
    projects           text[] NOT NULL,
    role               text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_by_subject text NOT NULL,
    created_by_email   text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    last_used_at       timestamptz,
    revoked_at         timestamptz,
    revoked_by         text NOT NULL DEFAULT '',
    CHECK ((kind = 'service') = (team <> ''))
);
CREATE INDEX api_tokens_owner ON api_tokens (owner_subject, created_at DESC);
CREATE INDEX api_tokens_creator ON api_tokens (created_by_subject, created_at DESC);

-- api_idempotency: the first answer to each Idempotency-Key, per caller, so a
-- repeat gets the same answer and a different request under the key is
-- refused. status is NULL while the first request is being handled.
CREATE TABLE api_idempotency (
    owner_subject text NOT NULL,
    key           text NOT NULL,
    request_hash  bytea NOT NULL,
    status        integer,
    body          bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_subject, key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);

-- +goose Down
DROP TABLE api_idempotency;
DROP TABLE api_tokens;
