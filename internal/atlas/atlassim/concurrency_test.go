package atlassim_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// TestConcurrentClients runs many clients at once against one simulator
// (reads, writes, tokens, admin, clock moves) so the race detector can see
// the locking. Each worker reports failures through a channel.
func TestConcurrentClients(t *testing.T) {
	e := newEnv(t, atlassim.Config{Speed: 100, PersistPath: t.TempDir() + "/state.json",
		Faults: atlassim.Faults{RateLimits: map[string]atlassim.RateLimit{"*": {Limit: 1000, Window: time.Minute}}}})
	token := e.token
	do := func(method, path, body string) (int, error) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, e.srv.URL+path, rd)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
		if body != "" {
			req.Header.Set("Content-Type", "application/vnd.atlas.2023-01-01+json")
		}
		res, err := e.srv.Client().Do(req)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		_, err = io.Copy(io.Discard, res.Body)
		return res.StatusCode, err
	}
	errs := make(chan error, 1000)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				calls := []struct {
					method, path, body string
					ok                 []int
				}{
					{"GET", rs + "/backup/snapshots", "", []int{200}},
					{"POST", rs + "/backup/snapshots", "{}", []int{200, 400}},
					{"POST", rs + "/backup/exports", `{"snapshotId":"` + atlassim.FixtureSnapshotID + `","exportBucketId":"` + atlassim.FixtureAWSBucketID + `"}`, []int{200, 409}},
					{"POST", pl + "/trigger", `{"snapshotId":"` + atlassim.FixtureSnapshotID + `"}`, []int{200}},
					{"GET", pl + "/runs", "", []int{200}},
					{"GET", "/_sim/state", "", []int{200}},
				}
				for _, c := range calls {
					status, err := do(c.method, c.path, c.body)
					if err != nil {
						errs <- err
						continue
					}
					good := false
					for _, s := range c.ok {
						good = good || s == status
					}
					if !good {
						errs <- fmt.Errorf("%s %s = %d", c.method, c.path, status)
					}
				}
				e.sim.AdvanceClock(time.Second)
				_ = e.sim.Calls()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
