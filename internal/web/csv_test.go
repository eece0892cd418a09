package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/identity"
)

// TestAuditCSVNeutralisesFormulasInEveryColumn: names and emails come
// from the identity provider, so any column may start like a formula.
func TestAuditCSVNeutralisesFormulasInEveryColumn(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	srv := newServer(t, pool)
	hostile := []string{`=HYPERLINK("http://evil.example","x")`, "+1+2", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"}
	for i, s := range hostile {
		e := audit.Event{Actor: identity.User{Subject: s, Email: s, Name: s}, Action: "signin", Outcome: audit.OK, Message: hostile[(i+1)%len(hostile)],
			Target: audit.Target{ClusterName: s}, Origin: audit.Origin{RequestID: s, RemoteAddr: s, UserAgent: s}}
		if err := audit.Log(context.Background(), pool, e); err != nil {
			t.Fatal(err)
		}
	}
	admin := signedIn(t, srv, "admin")
	resp, err := admin.Get(srv.URL + "/audit.csv?action=signin")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CSV = %d", resp.StatusCode)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < len(hostile)+1 {
		t.Fatalf("%d rows, want at least %d", len(rows), len(hostile)+1)
	}
	seen := 0
	for _, row := range rows[1:] {
		for col, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("column %s starts like a formula: %q", rows[0][col], cell)
			}
			if strings.HasPrefix(cell, "'") {
				seen++
			}
		}
	}
	if seen == 0 {
		t.Error("no cell was neutralised")
	}
}
