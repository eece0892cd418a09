package config

import (
	"errors"
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
