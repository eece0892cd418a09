package atlas

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
)

// Config is how Snapdesk reaches Atlas, read from the Atlas CLI's variables.
type Config struct {
	BaseURL                string
	ClientID, ClientSecret string
	PublicKey, PrivateKey  string
}

// String never shows a secret.
func (c Config) String() string {
	auth := "service account " + c.ClientID
	if c.PublicKey != "" {
		auth = "API key " + c.PublicKey
	}
	return fmt.Sprintf("atlas %s (%s)", c.BaseURL, auth)
}

// LogValue never logs a secret.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// ConfigError names the variable that is wrong.
type ConfigError struct{ Var, Want string }

func (e *ConfigError) Error() string { return fmt.Sprintf("config: %s: want %s", e.Var, e.Want) }

// ConfigFromEnv reads MONGODB_ATLAS_BASE_URL (default https://cloud.mongodb.com)
// and exactly one credential pair: MONGODB_ATLAS_CLIENT_ID and
// MONGODB_ATLAS_CLIENT_SECRET (service account), or
// MONGODB_ATLAS_PUBLIC_API_KEY and MONGODB_ATLAS_PRIVATE_API_KEY (API key).
// Secrets may also come from files named by the same variables plus _FILE.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	read := func(name string) (string, error) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v, nil
		}
		if f := getenv(name + "_FILE"); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return "", &ConfigError{Var: name + "_FILE", Want: "a readable file (" + err.Error() + ")"}
			}
			return strings.TrimSpace(string(b)), nil
		}
		return "", nil
	}
	var c Config
	var err error
	c.BaseURL = strings.TrimSuffix(strings.TrimSpace(getenv("MONGODB_ATLAS_BASE_URL")), "/")
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if u, perr := url.Parse(c.BaseURL); perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return c, &ConfigError{Var: "MONGODB_ATLAS_BASE_URL", Want: "an absolute http(s) URL such as https://cloud.mongodb.com"}
	}
	for _, f := range []struct {
		dst  *string
		name string
	}{
		{&c.ClientID, "MONGODB_ATLAS_CLIENT_ID"}, {&c.ClientSecret, "MONGODB_ATLAS_CLIENT_SECRET"},
		{&c.PublicKey, "MONGODB_ATLAS_PUBLIC_API_KEY"}, {&c.PrivateKey, "MONGODB_ATLAS_PRIVATE_API_KEY"},
	} {
		if *f.dst, err = read(f.name); err != nil {
			return c, err
		}
	}
	sa := c.ClientID != "" || c.ClientSecret != ""
	key := c.PublicKey != "" || c.PrivateKey != ""
	switch {
	case sa && key:
		return c, &ConfigError{Var: "MONGODB_ATLAS_CLIENT_ID", Want: "either a service account or an API key, not both"}
	case sa && c.ClientID == "":
		return c, &ConfigError{Var: "MONGODB_ATLAS_CLIENT_ID", Want: "the service account's client id (the secret is set)"}
	case sa && c.ClientSecret == "":
		return c, &ConfigError{Var: "MONGODB_ATLAS_CLIENT_SECRET", Want: "the service account's secret (the client id is set)"}
	case key && c.PublicKey == "":
		return c, &ConfigError{Var: "MONGODB_ATLAS_PUBLIC_API_KEY", Want: "the API key's public key (the private key is set)"}
	case key && c.PrivateKey == "":
		return c, &ConfigError{Var: "MONGODB_ATLAS_PRIVATE_API_KEY", Want: "the API key's private key (the public key is set)"}
	case !sa && !key:
		return c, &ConfigError{Var: "MONGODB_ATLAS_CLIENT_ID", Want: "Atlas credentials: MONGODB_ATLAS_CLIENT_ID and MONGODB_ATLAS_CLIENT_SECRET, or MONGODB_ATLAS_PUBLIC_API_KEY and MONGODB_ATLAS_PRIVATE_API_KEY"}
	}
	return c, nil
}

// NewFromConfig builds a client from cfg plus any further options.
func NewFromConfig(cfg Config, opts ...Option) (*Client, error) {
	all := []Option{WithBaseURL(cfg.BaseURL)}
	if cfg.ClientID != "" {
		all = append(all, WithServiceAccount(cfg.ClientID, cfg.ClientSecret))
	} else {
		all = append(all, WithAPIKey(cfg.PublicKey, cfg.PrivateKey))
	}
	return New(append(all, opts...)...)
}
