package atlas_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// BenchmarkClientOverhead compares a client call (validation, headers,
// rate-limit bookkeeping, decoding into typed values) with a bare net/http
// GET of the same answer from the same simulator. Both use a bearer
// service-account token, so the difference is the client's own cost.
func BenchmarkClientOverhead(b *testing.B) {
	sim, err := atlassim.New(atlassim.Config{})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	group, cluster := atlassim.FixtureProjectID, atlassim.FixtureReplicaSetCluster

	b.Run("client", func(b *testing.B) {
		c, err := atlas.New(atlas.WithBaseURL(srv.URL), atlas.WithServiceAccount(atlassim.DefaultClientID, atlassim.DefaultClientSecret))
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		for b.Loop() {
			if _, err := c.Clusters.Get(ctx, group, cluster); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare-net-http", func(b *testing.B) {
		c, _ := atlas.New(atlas.WithBaseURL(srv.URL), atlas.WithServiceAccount(atlassim.DefaultClientID, atlassim.DefaultClientSecret))
		_, _ = c.Projects.Get(context.Background(), group) // warm the token
		tok := bearerToken(b, srv.URL)
		url := srv.URL + "/api/atlas/v2/groups/" + group + "/clusters/" + cluster
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Accept", "application/vnd.atlas.2024-08-05+json")
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

func bearerToken(b *testing.B, base string) string {
	req, _ := http.NewRequest(http.MethodPost, base+"/api/oauth/token", stringsReader("grant_type=client_credentials"))
	req.SetBasicAuth(atlassim.DefaultClientID, atlassim.DefaultClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := jsonDecode(resp.Body, &body); err != nil || body.AccessToken == "" {
		b.Fatalf("token: %v", err)
	}
	return body.AccessToken
}
