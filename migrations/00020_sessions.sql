-- +goose Up
-- sessions: server-side sign-in sessions (github.com/alexedwards/scs/pgxstore's
-- schema). The cookie holds only the random token; ending a session deletes
-- its row, so a copied cookie stops working everywhere at once.
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- +goose Down
DROP TABLE sessions;
