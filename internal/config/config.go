// Package config reads Snapdesk's settings from environment variables and
// checks them all at start-up, so a bad value stops the server with a
// message that names the variable and the form it expects.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/inventory"
)

// Config is the whole of Snapdesk's configuration.
type Config struct {
	// HTTPAddr is where the web server listens (SNAPDESK_ADDR).
	HTTPAddr string
	// PublicURL is the address users reach Snapdesk at (SNAPDESK_PUBLIC_URL).
	PublicURL *url.URL
	// DatabaseURL is the Postgres connection string (DATABASE_URL); empty
	// means "start a private cluster" in the dev runner only.
	DatabaseURL string
	// AutoMigrate applies migrations at `serve` (SNAPDESK_AUTO_MIGRATE).
	AutoMigrate bool
	// ShutdownTimeout bounds graceful shutdown (SNAPDESK_SHUTDOWN_TIMEOUT).
	ShutdownTimeout time.Duration
	// LogLevel is debug, info, warn or error (SNAPDESK_LOG_LEVEL).
	LogLevel string
	// LogFormat is json, text or auto (SNAPDESK_LOG_FORMAT): auto means JSON
	// unless stdout is a terminal.
	LogFormat string
	// Poller runs the background poller in `serve` (SNAPDESK_POLLER); turn it
	// off when separate `server worker` processes do the polling.
	Poller bool
	// StallAfter flags a job whose progress has not moved for this long
	// (SNAPDESK_STALL_AFTER).
	StallAfter time.Duration
	// Sync runs the inventory sync in `serve` (SNAPDESK_SYNC); `server
	// worker` always runs it.
	Sync bool
	// SyncWatched is the cadence of what someone has open: a project's own
	// lists and the open cluster or pipeline (SNAPDESK_SYNC_WATCHED);
	// SyncNearby of the rest of that project (SNAPDESK_SYNC_NEARBY);
	// SyncIdle of the other projects (SNAPDESK_SYNC_IDLE).
	SyncWatched, SyncNearby, SyncIdle time.Duration
	// SyncShare is the share of each Atlas rate-limit bucket the sync may
	// use (SNAPDESK_SYNC_SHARE, 0.05–1).
	SyncShare float64
	// AtlasRateLimit and AtlasRateWindow are the bucket assumed until Atlas
	// sends RateLimit-Limit (SNAPDESK_ATLAS_RATE_LIMIT, _WINDOW).
	AtlasRateLimit  int
	AtlasRateWindow time.Duration
	// Health rates clusters on /health (SNAPDESK_HEALTH_SNAPSHOT_AMBER,
	// _SNAPSHOT_RED, _EXPORT_AMBER, _EXPORT_RED).
	Health inventory.HealthThresholds
	// ReturnToHosts are the portal hosts `return_to` may send people back
	// to (SNAPDESK_RETURN_TO_HOSTS, comma-separated); others are ignored.
	ReturnToHosts []string
	// APIRateLimit is how many requests an API token may make per minute
	// (SNAPDESK_API_RATE_LIMIT).
	APIRateLimit int
	// MetricsAddr, when set, serves /metrics (and nothing else) on a
	// listener of its own (SNAPDESK_METRICS_ADDR), for the scraper's
	// network only.
	MetricsAddr string
	// MetricsToken, when set, serves /metrics on the web listener to
	// requests bearing it (SNAPDESK_METRICS_TOKEN or _FILE). With neither,
	// metrics are not served.
	MetricsToken string `json:"-"`
	// AuditKey keys the HMAC of the audit trail's signed checkpoints
	// (SNAPDESK_AUDIT_KEY or _FILE); the database never holds it.
	AuditKey string `json:"-"`
	// Atlas is how to reach Atlas (MONGODB_ATLAS_* variables).
	Atlas atlas.Config
	// Auth is how people sign in and what they may do.
	Auth Auth
	// Notify is how notifications are delivered.
	Notify Notify
}

// Notify configures notifications (issue 14).
type Notify struct {
	// Deliver runs the outbox dispatcher and River's delivery workers in
	// `serve` (SNAPDESK_NOTIFY); `server worker` always runs them.
	Deliver bool
	// Key seals webhook and Slack URLs and signing secrets at rest
	// (SNAPDESK_NOTIFY_KEY or _FILE: 32 bytes, base64); without it only
	// email subscriptions can be made.
	Key []byte `json:"-"`
	// SMTP is the mail server (SNAPDESK_SMTP_*); empty Host: no email.
	SMTPHost     string
	SMTPPort     int
	SMTPUsername string
	SMTPPassword string `json:"-"`
	SMTPFrom     string
	// SMTPTLS is starttls (the default), tls, or none (loopback only).
	SMTPTLS string
}

// Auth is the sign-in and authorization configuration.
type Auth struct {
	// Mode is "oidc" (the default) or "dev" (pick a seeded user; AUTH_MODE).
	Mode string
	// DevAllowRemote lets dev mode listen beyond loopback (SNAPDESK_DEV_AUTH_ALLOW_REMOTE).
	DevAllowRemote bool
	// IssuerURL, ClientID, ClientSecret, RedirectURL, GroupsClaim and Scopes
	// register Snapdesk at the OpenID provider (OIDC_* variables).
	IssuerURL    string
	ClientID     string
	ClientSecret string `json:"-"`
	RedirectURL  string
	GroupsClaim  string
	Scopes       []string
	// PolicyFile is the YAML roles policy (SNAPDESK_POLICY_FILE); required
	// with OIDC, optional in dev mode (a built-in policy for the seeded users).
	PolicyFile string
	// SessionIdleTimeout and SessionLifetime bound sessions.
	SessionIdleTimeout time.Duration
	SessionLifetime    time.Duration
	// FrameAncestors are the portal origins allowed to frame Snapdesk
	// (SNAPDESK_FRAME_ANCESTORS); none by default.
	FrameAncestors []string
}

// AuthModes.
const (
	AuthOIDC = "oidc"
	AuthDev  = "dev"
)

// Var describes one environment variable for the README and error messages.
type Var struct {
	Name, Default, Form string
}

// Vars lists every variable Config reads, with its default and expected form.
var Vars = []Var{
	{"SNAPDESK_ADDR", "127.0.0.1:8080", "host:port to listen on"},
	{"SNAPDESK_PUBLIC_URL", "http://<SNAPDESK_ADDR>", "absolute http(s) URL users reach Snapdesk at"},
	{"DATABASE_URL", "(none; `make run` starts a private Postgres)", "postgres:// URL"},
	{"SNAPDESK_AUTO_MIGRATE", "true", "true or false"},
	{"SNAPDESK_SHUTDOWN_TIMEOUT", "10s", "Go duration between 1s and 60s"},
	{"SNAPDESK_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"SNAPDESK_LOG_FORMAT", "auto", "auto, json or text"},
	{"SNAPDESK_RETURN_TO_HOSTS", "(none)", "comma-separated host[:port] of portals return_to may lead back to (https only)"},
	{"SNAPDESK_POLLER", "true", "true or false: run the poller inside `serve`"},
	{"SNAPDESK_NOTIFY", "true", "true or false: dispatch and deliver notifications inside `serve`"},
	{"SNAPDESK_NOTIFY_KEY", "(none: email subscriptions only)", "32 random bytes, base64, sealing webhook and Slack URLs and secrets; SNAPDESK_NOTIFY_KEY_FILE reads a file"},
	{"SNAPDESK_SMTP_ADDR", "(none: no email)", "host:port of the SMTP server for notification emails"},
	{"SNAPDESK_SMTP_FROM", "(required with SNAPDESK_SMTP_ADDR)", "sender address of notification emails"},
	{"SNAPDESK_SMTP_USERNAME / SNAPDESK_SMTP_PASSWORD", "(none)", "SMTP sign-in (PLAIN); SNAPDESK_SMTP_PASSWORD_FILE reads a file"},
	{"SNAPDESK_SMTP_TLS", "starttls", "starttls, tls (implicit), or none (loopback only)"},
	{"SNAPDESK_STALL_AFTER", "30m", "Go duration between 1m and 24h"},
	{"SNAPDESK_API_RATE_LIMIT", "120", "requests per minute per API token, 1 to 100000"},
	{"SNAPDESK_METRICS_ADDR", "(none)", "host:port of a listener serving only /metrics (not SNAPDESK_ADDR)"},
	{"SNAPDESK_METRICS_TOKEN", "(none)", "bearer token (24+ characters) that serves /metrics on SNAPDESK_ADDR; SNAPDESK_METRICS_TOKEN_FILE reads a file"},
	{"SNAPDESK_AUDIT_KEY", "(none)", "HMAC key (32+ characters) of the audit trail's signed checkpoints, never stored in the database; SNAPDESK_AUDIT_KEY_FILE reads a file"},
	{"AUTH_MODE", "oidc (`make run`: dev)", "oidc, or dev: a sign-in page to pick a seeded user, refused unless SNAPDESK_ADDR is loopback"},
	{"SNAPDESK_DEV_AUTH_ALLOW_REMOTE", "false", "true lets dev sign-in listen beyond loopback (never in production)"},
	{"OIDC_ISSUER_URL", "(required with oidc)", "the provider's issuer URL (https; http only for loopback)"},
	{"OIDC_CLIENT_ID / OIDC_CLIENT_SECRET", "(required with oidc)", "the client registration; OIDC_CLIENT_SECRET_FILE reads a file"},
	{"OIDC_REDIRECT_URL", "<SNAPDESK_PUBLIC_URL>/auth/callback", "absolute URL registered at the provider"},
	{"OIDC_GROUPS_CLAIM", "groups", "ID token claim holding the person's groups"},
	{"OIDC_SCOPES", "(none)", "extra scopes, space- or comma-separated (openid email profile are always asked)"},
	{"SNAPDESK_POLICY_FILE", "(required with oidc; dev: built-in)", "path of the YAML roles policy; reloaded on SIGHUP and on change"},
	{"SNAPDESK_SESSION_IDLE_TIMEOUT", "1h", "Go duration between 5m and 24h"},
	{"SNAPDESK_SESSION_LIFETIME", "12h", "Go duration between 1h and 720h"},
	{"SNAPDESK_FRAME_ANCESTORS", "(none: 'none')", "space- or comma-separated https origins of portals that may frame Snapdesk"},
	{"MONGODB_ATLAS_BASE_URL", "https://cloud.mongodb.com (`make run`: the embedded simulator)", "absolute http(s) URL"},
	{"MONGODB_ATLAS_CLIENT_ID / MONGODB_ATLAS_CLIENT_SECRET", "(none)", "a service account (recommended); `_FILE` variants read a file"},
	{"MONGODB_ATLAS_PUBLIC_API_KEY / MONGODB_ATLAS_PRIVATE_API_KEY", "(none)", "an API key (Digest), instead of a service account"},
}

// Error is a configuration error; it names the variable.
type Error struct {
	Var, Value, Want string
}

func (e *Error) Error() string {
	return fmt.Sprintf("config: %s=%q is not valid: want %s", e.Var, e.Value, e.Want)
}

// Load reads the configuration with getenv (os.Getenv in production) and
// returns every problem found, joined.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		HTTPAddr:        r.hostPort("SNAPDESK_ADDR", "127.0.0.1:8080"),
		DatabaseURL:     r.postgresURL("DATABASE_URL"),
		AutoMigrate:     r.boolean("SNAPDESK_AUTO_MIGRATE", true),
		ShutdownTimeout: r.duration("SNAPDESK_SHUTDOWN_TIMEOUT", 10*time.Second, time.Second, time.Minute),
		LogLevel:        r.oneOf("SNAPDESK_LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		LogFormat:       r.oneOf("SNAPDESK_LOG_FORMAT", "auto", "auto", "json", "text"),
		Poller:          r.boolean("SNAPDESK_POLLER", true),
		StallAfter:      r.duration("SNAPDESK_STALL_AFTER", 30*time.Minute, time.Minute, 24*time.Hour),
		Sync:            r.boolean("SNAPDESK_SYNC", true),
		SyncWatched:     r.duration("SNAPDESK_SYNC_WATCHED", 10*time.Second, 2*time.Second, 5*time.Minute),
		SyncNearby:      r.duration("SNAPDESK_SYNC_NEARBY", time.Minute, 2*time.Second, time.Hour),
		SyncIdle:        r.duration("SNAPDESK_SYNC_IDLE", 10*time.Minute, time.Minute, 24*time.Hour),
		SyncShare:       r.fraction("SNAPDESK_SYNC_SHARE", 0.5, 0.05, 1),
		AtlasRateLimit:  r.integer("SNAPDESK_ATLAS_RATE_LIMIT", 100, 1, 1_000_000),
		AtlasRateWindow: r.duration("SNAPDESK_ATLAS_RATE_WINDOW", time.Minute, time.Second, 24*time.Hour),
		APIRateLimit:    r.integer("SNAPDESK_API_RATE_LIMIT", 120, 1, 100_000),
	}
	for _, h := range strings.Split(r.str("SNAPDESK_RETURN_TO_HOSTS", ""), ",") {
		if h = strings.TrimSpace(h); h != "" {
			if strings.ContainsAny(h, "/@ \\") {
				r.fail("SNAPDESK_RETURN_TO_HOSTS", h, "host names such as portal.example.com, comma-separated")
			}
			c.ReturnToHosts = append(c.ReturnToHosts, strings.ToLower(h))
		}
	}
	var err error
	if c.Atlas, err = atlas.ConfigFromEnv(getenv); err != nil {
		r.errs = append(r.errs, err)
	}
	c.PublicURL = r.httpURL("SNAPDESK_PUBLIC_URL", "http://"+c.HTTPAddr)
	if c.MetricsAddr = r.str("SNAPDESK_METRICS_ADDR", ""); c.MetricsAddr != "" {
		c.MetricsAddr = r.hostPort("SNAPDESK_METRICS_ADDR", "")
		if c.MetricsAddr == c.HTTPAddr {
			r.fail("SNAPDESK_METRICS_ADDR", c.MetricsAddr, "a host:port other than SNAPDESK_ADDR's")
		}
	}
	if c.MetricsToken = r.secret("SNAPDESK_METRICS_TOKEN"); c.MetricsToken != "" && len(c.MetricsToken) < 24 {
		r.errs = append(r.errs, &Error{Var: "SNAPDESK_METRICS_TOKEN", Value: "(hidden)", Want: "a random token of at least 24 characters"})
	}
	if c.AuditKey = r.secret("SNAPDESK_AUDIT_KEY"); c.AuditKey != "" && len(c.AuditKey) < 32 {
		r.errs = append(r.errs, &Error{Var: "SNAPDESK_AUDIT_KEY", Value: "(hidden)", Want: "a random key of at least 32 characters"})
	}
	c.Auth = r.auth(c)
	c.Notify = r.notify()
	return c, errors.Join(r.errs...)
}

func (r *reader) notify() Notify {
	n := Notify{Deliver: r.boolean("SNAPDESK_NOTIFY", true)}
	if k := r.secret("SNAPDESK_NOTIFY_KEY"); k != "" {
		key, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(key) != 32 {
			r.errs = append(r.errs, &Error{Var: "SNAPDESK_NOTIFY_KEY", Value: "(hidden)", Want: "32 random bytes, base64-encoded (openssl rand -base64 32)"})
		}
		n.Key = key
	}
	addr := r.str("SNAPDESK_SMTP_ADDR", "")
	n.SMTPTLS = r.oneOf("SNAPDESK_SMTP_TLS", "starttls", "starttls", "tls", "none")
	n.SMTPFrom = r.str("SNAPDESK_SMTP_FROM", "")
	n.SMTPUsername = r.str("SNAPDESK_SMTP_USERNAME", "")
	n.SMTPPassword = r.secret("SNAPDESK_SMTP_PASSWORD")
	if addr == "" {
		return n
	}
	host, port, err := net.SplitHostPort(addr)
	p, perr := strconv.Atoi(port)
	if err != nil || perr != nil || host == "" || p < 1 || p > 65535 {
		r.fail("SNAPDESK_SMTP_ADDR", addr, "host:port of the SMTP server, such as smtp.example.com:587")
		return n
	}
	n.SMTPHost, n.SMTPPort = host, p
	if _, err := mail.ParseAddress(n.SMTPFrom); err != nil {
		r.fail("SNAPDESK_SMTP_FROM", n.SMTPFrom, "the sender address of notification emails, such as snapdesk@example.com")
	}
	if n.SMTPTLS == "none" && !isLoopback(addr) {
		r.fail("SNAPDESK_SMTP_TLS", n.SMTPTLS, "starttls or tls (none only for an SMTP server on loopback)")
	}
	return n
}

// FromEnv is Load(os.Getenv).
func FromEnv() (Config, error) { return Load(os.Getenv) }

type reader struct {
	getenv func(string) string
	errs   []error
}

func (r *reader) fail(name, value, want string) {
	r.errs = append(r.errs, &Error{Var: name, Value: value, Want: want})
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) hostPort(name, def string) string {
	v := r.str(name, def)
	host, port, err := net.SplitHostPort(v)
	if p, perr := strconv.Atoi(port); err != nil || perr != nil || p < 0 || p > 65535 || strings.ContainsAny(host, "/ ") {
		r.fail(name, v, "host:port, e.g. 127.0.0.1:8080")
	}
	return v
}

func (r *reader) postgresURL(name string) string {
	v := r.str(name, "")
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		// Never echo the value: it may hold a password.
		r.errs = append(r.errs, &Error{Var: name, Value: "(hidden)", Want: "a postgres://user:password@host:port/dbname URL"})
	}
	return v
}

func (r *reader) httpURL(name, def string) *url.URL {
	v := r.str(name, def)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		r.fail(name, v, "an absolute http:// or https:// URL without query, e.g. https://snapdesk.example.com")
		return &url.URL{Scheme: "http", Host: "invalid"}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u
}

func (r *reader) boolean(name string, def bool) bool {
	v := r.str(name, strconv.FormatBool(def))
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, v, "true or false")
	}
	return b
}

func (r *reader) duration(name string, def, lo, hi time.Duration) time.Duration {
	v := r.str(name, def.String())
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		r.fail(name, v, fmt.Sprintf("a Go duration between %s and %s, e.g. 10s", lo, hi))
		return def
	}
	return d
}

func (r *reader) fraction(name string, def, lo, hi float64) float64 {
	v := r.str(name, strconv.FormatFloat(def, 'f', -1, 64))
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < lo || f > hi {
		r.fail(name, v, fmt.Sprintf("a number between %g and %g, e.g. %g", lo, hi, def))
		return def
	}
	return f
}

func (r *reader) integer(name string, def, lo, hi int) int {
	v := r.str(name, strconv.Itoa(def))
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, v, fmt.Sprintf("a whole number between %d and %d", lo, hi))
		return def
	}
	return n
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(r.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(name, v, "one of "+strings.Join(allowed, ", "))
	return def
}

func (r *reader) auth(c Config) Auth {
	a := Auth{
		Mode:               r.oneOf("AUTH_MODE", AuthOIDC, AuthOIDC, AuthDev),
		DevAllowRemote:     r.boolean("SNAPDESK_DEV_AUTH_ALLOW_REMOTE", false),
		GroupsClaim:        r.str("OIDC_GROUPS_CLAIM", "groups"),
		PolicyFile:         r.str("SNAPDESK_POLICY_FILE", ""),
		SessionIdleTimeout: r.duration("SNAPDESK_SESSION_IDLE_TIMEOUT", time.Hour, 5*time.Minute, 24*time.Hour),
		SessionLifetime:    r.duration("SNAPDESK_SESSION_LIFETIME", 12*time.Hour, time.Hour, 720*time.Hour),
		Scopes:             strings.FieldsFunc(r.str("OIDC_SCOPES", ""), isListSep),
	}
	if a.SessionIdleTimeout > a.SessionLifetime {
		r.fail("SNAPDESK_SESSION_IDLE_TIMEOUT", a.SessionIdleTimeout.String(), "at most SNAPDESK_SESSION_LIFETIME")
	}
	for _, o := range strings.FieldsFunc(r.str("SNAPDESK_FRAME_ANCESTORS", ""), isListSep) {
		u, err := url.Parse(o)
		if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || strings.ContainsAny(o, "*;'") {
			r.fail("SNAPDESK_FRAME_ANCESTORS", o, "https origins such as https://portal.example.com")
			continue
		}
		a.FrameAncestors = append(a.FrameAncestors, u.Scheme+"://"+u.Host)
	}
	if a.PolicyFile != "" {
		if _, err := os.Stat(a.PolicyFile); err != nil {
			r.fail("SNAPDESK_POLICY_FILE", a.PolicyFile, "a readable YAML policy file ("+err.Error()+")")
		}
	}
	if a.Mode == AuthDev {
		if _, _, err := net.SplitHostPort(c.HTTPAddr); err == nil && !a.DevAllowRemote && !isLoopback(c.HTTPAddr) {
			r.fail("AUTH_MODE", a.Mode, "oidc: development sign-in lets anyone be anyone, so it only listens on loopback (SNAPDESK_ADDR=127.0.0.1:port) unless SNAPDESK_DEV_AUTH_ALLOW_REMOTE=true")
		}
		return a
	}
	issuer := r.str("OIDC_ISSUER_URL", "")
	if u, err := url.Parse(issuer); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Host))) {
		r.fail("OIDC_ISSUER_URL", issuer, "the provider's https issuer URL, e.g. https://login.example.com/realms/staff (or AUTH_MODE=dev for development)")
	}
	a.IssuerURL = strings.TrimSuffix(issuer, "/")
	if a.ClientID = r.str("OIDC_CLIENT_ID", ""); a.ClientID == "" {
		r.fail("OIDC_CLIENT_ID", "", "the client id registered at the provider")
	}
	a.ClientSecret = r.secret("OIDC_CLIENT_SECRET")
	if a.ClientSecret == "" {
		r.errs = append(r.errs, &Error{Var: "OIDC_CLIENT_SECRET", Value: "", Want: "the client secret, or OIDC_CLIENT_SECRET_FILE naming a file holding it"})
	}
	redirect := r.httpURL("OIDC_REDIRECT_URL", c.PublicURL.String()+"/auth/callback")
	a.RedirectURL = redirect.String()
	if a.PolicyFile == "" {
		r.fail("SNAPDESK_POLICY_FILE", "", "the path of the YAML roles policy (deny by default: without one nobody could do anything)")
	}
	return a
}

// secret reads name, or the file named by name_FILE (container secrets).
// Its value never appears in an error.
func (r *reader) secret(name string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	f := strings.TrimSpace(r.getenv(name + "_FILE"))
	if f == "" {
		return ""
	}
	b, err := os.ReadFile(f)
	if err != nil {
		r.fail(name+"_FILE", f, "a readable file ("+err.Error()+")")
		return ""
	}
	return strings.TrimSpace(string(b))
}

func isListSep(r rune) bool { return r == ',' || r == ' ' }

// isLoopback reports whether a host[:port] names only the loopback interface.
func isLoopback(hostPort string) bool {
	host := hostPort
	if h, _, err := net.SplitHostPort(hostPort); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
