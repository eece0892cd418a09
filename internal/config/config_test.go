package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/snapdesk/snapdesk/internal/atlas"
)

// env is m over a valid base: Atlas service-account credentials.
func env(m map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := m[k]; ok {
			return v
		}
		switch k {
		case "MONGODB_ATLAS_CLIENT_ID":
			return "mdb_sa_id_x"
		case "MONGODB_ATLAS_CLIENT_SECRET":
			return "mdb_sa_sk_x"
		case "AUTH_MODE":
			return "dev"
		}
		return ""
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:8080" || c.PublicURL.String() != "http://127.0.0.1:8080" ||
		!c.AutoMigrate || c.ShutdownTimeout != 10*time.Second || c.LogLevel != "info" || c.LogFormat != "auto" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		env     map[string]string
		wantVar string
	}{
		{map[string]string{"SNAPDESK_ADDR": "8080"}, "SNAPDESK_ADDR"},
		{map[string]string{"SNAPDESK_ADDR": "127.0.0.1:99999"}, "SNAPDESK_ADDR"},
		{map[string]string{"DATABASE_URL": "mysql://u:secret@h/db"}, "DATABASE_URL"},
		{map[string]string{"SNAPDESK_AUTO_MIGRATE": "sometimes"}, "SNAPDESK_AUTO_MIGRATE"},
		{map[string]string{"SNAPDESK_SHUTDOWN_TIMEOUT": "10"}, "SNAPDESK_SHUTDOWN_TIMEOUT"},
		{map[string]string{"SNAPDESK_SHUTDOWN_TIMEOUT": "5m"}, "SNAPDESK_SHUTDOWN_TIMEOUT"},
		{map[string]string{"SNAPDESK_LOG_LEVEL": "loud"}, "SNAPDESK_LOG_LEVEL"},
		{map[string]string{"SNAPDESK_LOG_FORMAT": "xml"}, "SNAPDESK_LOG_FORMAT"},
		{map[string]string{"SNAPDESK_PUBLIC_URL": "snapdesk.example.com"}, "SNAPDESK_PUBLIC_URL"},
	}
	for _, tt := range tests {
		_, err := Load(env(tt.env))
		var cerr *Error
		if !errors.As(err, &cerr) {
			t.Fatalf("Load(%v) = %v, want *config.Error", tt.env, err)
		}
		if cerr.Var != tt.wantVar || !strings.Contains(err.Error(), tt.wantVar) {
			t.Errorf("Load(%v) error %q does not name %s", tt.env, err, tt.wantVar)
		}
	}
}

func TestLoadNeverEchoesDatabasePassword(t *testing.T) {
	_, err := Load(env(map[string]string{"DATABASE_URL": "mysql://u:hunter2@h/db"}))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v leaks the password or is missing", err)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load(env(map[string]string{"SNAPDESK_ADDR": "x", "SNAPDESK_LOG_LEVEL": "y"}))
	var got []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		got = append(got, e.(*Error).Var)
	}
	if diff := cmp.Diff([]string{"SNAPDESK_ADDR", "SNAPDESK_LOG_LEVEL"}, got); diff != "" {
		t.Fatalf("variables named (-want +got):\n%s", diff)
	}
}

func TestAtlasCredentialsRequired(t *testing.T) {
	_, err := Load(func(k string) string { return "" })
	var aerr *atlas.ConfigError
	if !errors.As(err, &aerr) || !strings.Contains(err.Error(), "MONGODB_ATLAS_CLIENT_ID") {
		t.Fatalf("Load without Atlas credentials = %v", err)
	}
}

func TestOIDCModeNeedsItsRegistrationAndAPolicy(t *testing.T) {
	_, err := Load(env(map[string]string{"AUTH_MODE": "oidc"}))
	var names []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *Error
		if errors.As(e, &ce) {
			names = append(names, ce.Var)
		}
	}
	want := []string{"OIDC_ISSUER_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "SNAPDESK_POLICY_FILE"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("variables named (-want +got):\n%s", diff)
	}
}

func TestOIDCSecretFromFileIsReadAndNeverEchoed(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(secretFile, []byte("s3cr3t-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policyFile, []byte("grants: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env(map[string]string{"AUTH_MODE": "oidc", "OIDC_ISSUER_URL": "https://login.example.com/realms/staff",
		"OIDC_CLIENT_ID": "snapdesk", "OIDC_CLIENT_SECRET_FILE": secretFile, "SNAPDESK_POLICY_FILE": policyFile,
		"SNAPDESK_PUBLIC_URL": "https://snapdesk.example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.ClientSecret != "s3cr3t-value" || c.Auth.RedirectURL != "https://snapdesk.example.com/auth/callback" {
		t.Errorf("auth = secret %q, redirect %q", c.Auth.ClientSecret, c.Auth.RedirectURL)
	}
	if b, _ := json.Marshal(c.Auth); strings.Contains(string(b), "s3cr3t") {
		t.Errorf("the client secret is in the config's JSON: %s", b)
	}
	_, err = Load(env(map[string]string{"AUTH_MODE": "oidc", "OIDC_ISSUER_URL": "http://login.example.com",
		"OIDC_CLIENT_ID": "snapdesk", "OIDC_CLIENT_SECRET_FILE": filepath.Join(dir, "missing"), "SNAPDESK_POLICY_FILE": policyFile}))
	if err == nil || !strings.Contains(err.Error(), "OIDC_CLIENT_SECRET_FILE") || !strings.Contains(err.Error(), "OIDC_ISSUER_URL") {
		t.Errorf("plain-http issuer and a missing secret file: err = %v", err)
	}
}

func TestDevSignInOnlyOnLoopback(t *testing.T) {
	if _, err := Load(env(map[string]string{"SNAPDESK_ADDR": "127.0.0.1:8080"})); err != nil {
		t.Errorf("dev mode on loopback: %v", err)
	}
	_, err := Load(env(map[string]string{"SNAPDESK_ADDR": "0.0.0.0:8080"}))
	if err == nil || !strings.Contains(err.Error(), "AUTH_MODE") {
		t.Errorf("dev mode on 0.0.0.0: err = %v, want AUTH_MODE refused", err)
	}
	if _, err := Load(env(map[string]string{"SNAPDESK_ADDR": "0.0.0.0:8080", "SNAPDESK_DEV_AUTH_ALLOW_REMOTE": "true"})); err != nil {
		t.Errorf("dev mode on 0.0.0.0 with the override: %v", err)
	}
}

func TestFrameAncestorsAreHTTPSOrigins(t *testing.T) {
	c, err := Load(env(map[string]string{"SNAPDESK_FRAME_ANCESTORS": "https://portal.example.com, https://intra.example.org/"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"https://portal.example.com", "https://intra.example.org"}, c.Auth.FrameAncestors); diff != "" {
		t.Error(diff)
	}
	for _, bad := range []string{"http://portal.example.com", "*", "https://a.example.com/path", "'self'"} {
		if _, err := Load(env(map[string]string{"SNAPDESK_FRAME_ANCESTORS": bad})); err == nil {
			t.Errorf("SNAPDESK_FRAME_ANCESTORS=%q accepted", bad)
		}
	}
}

// TestMetricsAndAuditKeySettings: the metrics listener, the scrapers'
// token and the audit checkpoint key are checked at start-up, and the
// secrets never echoed.
func TestMetricsAndAuditKeySettings(t *testing.T) {
	c, err := Load(env(map[string]string{"SNAPDESK_METRICS_ADDR": "0.0.0.0:9090", "SNAPDESK_METRICS_TOKEN": "a-scrapers-token-of-24-chars-or-more",
		"SNAPDESK_AUDIT_KEY": strings.Repeat("k", 32)}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != "0.0.0.0:9090" || c.MetricsToken == "" || c.AuditKey == "" {
		t.Errorf("metrics %q token %q audit key set %v", c.MetricsAddr, c.MetricsToken, c.AuditKey != "")
	}
	if b, _ := json.Marshal(c); strings.Contains(string(b), "scrapers-token") || strings.Contains(string(b), "kkkk") {
		t.Error("a secret is in the configuration's JSON")
	}
	for name, e := range map[string]map[string]string{
		"SNAPDESK_METRICS_ADDR":  {"SNAPDESK_METRICS_ADDR": "9090"},
		"SNAPDESK_METRICS_TOKEN": {"SNAPDESK_METRICS_TOKEN": "short-secret"},
		"SNAPDESK_AUDIT_KEY":     {"SNAPDESK_AUDIT_KEY": "short-secret"},
	} {
		_, err := Load(env(e))
		var cerr *Error
		if !errors.As(err, &cerr) || cerr.Var != name {
			t.Errorf("%v: err = %v, want one naming %s", e, err, name)
		}
		if strings.Contains(fmt.Sprint(err), "short-secret") {
			t.Errorf("%s echoed in %v", name, err)
		}
	}
	if _, err := Load(env(map[string]string{"SNAPDESK_ADDR": "127.0.0.1:8080", "SNAPDESK_METRICS_ADDR": "127.0.0.1:8080"})); err == nil {
		t.Error("SNAPDESK_METRICS_ADDR equal to SNAPDESK_ADDR accepted")
	}
}

func TestNotifyKeyAndSMTPAreCheckedAtStart(t *testing.T) {
	key := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes
	c, err := Load(env(map[string]string{"SNAPDESK_NOTIFY_KEY": key, "SNAPDESK_SMTP_ADDR": "127.0.0.1:2525",
		"SNAPDESK_SMTP_FROM": "snapdesk@example.com", "SNAPDESK_SMTP_TLS": "none"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Notify.Key) != 32 || c.Notify.SMTPHost != "127.0.0.1" || c.Notify.SMTPPort != 2525 || !c.Notify.Deliver {
		t.Errorf("notify config %+v", c.Notify)
	}
	for _, tc := range []struct {
		env     map[string]string
		wantVar string
	}{
		{map[string]string{"SNAPDESK_NOTIFY_KEY": "c2hvcnQ="}, "SNAPDESK_NOTIFY_KEY"},
		{map[string]string{"SNAPDESK_SMTP_ADDR": "smtp.example.com"}, "SNAPDESK_SMTP_ADDR"},
		{map[string]string{"SNAPDESK_SMTP_ADDR": "smtp.example.com:587"}, "SNAPDESK_SMTP_FROM"},
		{map[string]string{"SNAPDESK_SMTP_ADDR": "smtp.example.com:25", "SNAPDESK_SMTP_FROM": "a@example.com", "SNAPDESK_SMTP_TLS": "none"}, "SNAPDESK_SMTP_TLS"},
	} {
		_, err := Load(env(tc.env))
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != tc.wantVar {
			t.Errorf("%v: error %v, want one naming %s", tc.env, err, tc.wantVar)
		}
		if err != nil && strings.Contains(err.Error(), "c2hvcnQ") {
			t.Errorf("the key was echoed: %v", err)
		}
	}
}
