package main

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestComposeFile checks the shape operators rely on: Postgres 15 with a
// named volume, and the server pointed at it. (`docker compose config` also
// accepts it; no engine runs in CI, so this is the check that always runs.)
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
			DependsOn   map[string]any    `yaml:"depends_on"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	pg, ok := compose.Services["postgres"]
	if !ok || pg.Image != "postgres:15" {
		t.Fatalf("postgres service = %+v, want image postgres:15", pg)
	}
	if len(pg.Volumes) == 0 {
		t.Fatal("postgres has no volume")
	}
	volName, _, _ := strings.Cut(pg.Volumes[0], ":")
	if _, ok := compose.Volumes[volName]; !ok {
		t.Errorf("postgres volume %q is not a named volume", volName)
	}
	srv, ok := compose.Services["server"]
	if !ok || srv.Build == nil {
		t.Fatal("no server service built from the Dockerfile")
	}
	if !strings.Contains(srv.Environment["DATABASE_URL"], "@postgres:5432/") {
		t.Errorf("server DATABASE_URL = %q, want the postgres service", srv.Environment["DATABASE_URL"])
	}
	if _, ok := srv.DependsOn["postgres"]; !ok {
		t.Error("server does not wait for postgres")
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "USER nonroot", "HEALTHCHECK", `"healthcheck"`, "AS build"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}
