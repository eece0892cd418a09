package atlassim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Faults are the failures the simulator injects on demand. The zero value
// injects none. In JSON (POST /_sim/faults, ATLAS_SIM_FAULTS) durations are
// strings such as "250ms" or "1m":
//
//	{
//	  "latency": "100ms",
//	  "errorRate": 0.1, "errorStatus": 503,
//	  "dropRate": 0.05,
//	  "pipelinesRetired": true,
//	  "operations": {"takeGroupClusterBackupSnapshots": {"errorRate": 1, "status": 500}},
//	  "rateLimits": {"snapshots": {"limit": 5, "window": "1m"}, "*": {"limit": 100, "window": "1m"}}
//	}
type Faults struct {
	// Latency is added to every API call.
	Latency time.Duration
	// ErrorRate is the probability, in [0, 1], that an API call is answered
	// with ErrorStatus (default 500) instead of being served.
	ErrorRate   float64
	ErrorStatus int
	// DropRate is the probability that the connection of an API call is
	// closed without an answer.
	DropRate float64
	// PipelinesRetired makes every pipelines path answer
	// PipelinesRetiredStatus (404, the default, or 410), as Atlas does since
	// it removed Data Lake pipelines.
	PipelinesRetired       bool
	PipelinesRetiredStatus int
	// Operations holds faults for single operations, keyed by operationId
	// (see OperationIDs). They add to the global ones.
	Operations map[string]OpFault
	// RateLimits turns on Atlas-style token buckets, keyed by scope (the Scope
	// constants) or "*" for every scope without its own entry. Buckets are
	// kept per scope and project.
	RateLimits map[string]RateLimit
}

// OpFault is a fault for one operation.
type OpFault struct {
	// ErrorRate is the probability, in [0, 1], that a call is answered with
	// Status (default 500).
	ErrorRate float64
	Status    int
	// Latency is added to each call.
	Latency time.Duration
	// DropRate is the probability that the connection is closed without an
	// answer.
	DropRate float64
}

// RateLimit is a token bucket that holds Limit calls and refills completely
// over Window (at a steady rate) of simulated time.
type RateLimit struct {
	Limit  int
	Window time.Duration
}

// clone copies f, maps included, so the caller and the server never share
// them.
func (f Faults) clone() Faults {
	if f.Operations != nil {
		ops := make(map[string]OpFault, len(f.Operations))
		for k, v := range f.Operations {
			ops[k] = v
		}
		f.Operations = ops
	}
	if f.RateLimits != nil {
		rl := make(map[string]RateLimit, len(f.RateLimits))
		for k, v := range f.RateLimits {
			rl[k] = v
		}
		f.RateLimits = rl
	}
	return f
}

// maxLatency bounds injected latency, so a mistyped fault cannot hang a test
// run for hours.
const maxLatency = 5 * time.Minute

// validate reports the first thing wrong with f.
func (f Faults) validate() error {
	if err := validRate("errorRate", f.ErrorRate); err != nil {
		return err
	}
	if err := validRate("dropRate", f.DropRate); err != nil {
		return err
	}
	if err := validStatus("errorStatus", f.ErrorStatus); err != nil {
		return err
	}
	if f.Latency < 0 || f.Latency > maxLatency {
		return fmt.Errorf("latency %v is not between 0 and %v", f.Latency, maxLatency)
	}
	switch f.PipelinesRetiredStatus {
	case 0, http.StatusNotFound, http.StatusGone:
	default:
		return fmt.Errorf("pipelinesRetiredStatus %d is not 404 or 410", f.PipelinesRetiredStatus)
	}
	for id, of := range f.Operations {
		if !knownOperation(id) {
			return fmt.Errorf("operations: unknown operationId %q", id)
		}
		if err := validRate(id+".errorRate", of.ErrorRate); err != nil {
			return err
		}
		if err := validRate(id+".dropRate", of.DropRate); err != nil {
			return err
		}
		if err := validStatus(id+".status", of.Status); err != nil {
			return err
		}
		if of.Latency < 0 || of.Latency > maxLatency {
			return fmt.Errorf("%s.latency %v is not between 0 and %v", id, of.Latency, maxLatency)
		}
	}
	for scope, rl := range f.RateLimits {
		if !knownScope(scope) {
			return fmt.Errorf("rateLimits: unknown scope %q", scope)
		}
		if rl.Limit < 1 || rl.Limit > 1_000_000 {
			return fmt.Errorf("rateLimits.%s.limit %d is not between 1 and 1000000", scope, rl.Limit)
		}
		if rl.Window < time.Second || rl.Window > 24*time.Hour {
			return fmt.Errorf("rateLimits.%s.window %v is not between 1s and 24h", scope, rl.Window)
		}
	}
	return nil
}

func validRate(name string, r float64) error {
	if math.IsNaN(r) || r < 0 || r > 1 {
		return fmt.Errorf("%s %v is not between 0 and 1", name, r)
	}
	return nil
}

func validStatus(name string, s int) error {
	if s != 0 && (s < 400 || s > 599) {
		return fmt.Errorf("%s %d is not an error status (400-599)", name, s)
	}
	return nil
}

func knownOperation(id string) bool {
	for _, op := range operations {
		if op.id == id {
			return true
		}
	}
	return false
}

func knownScope(s string) bool {
	switch s {
	case "*", ScopeProjects, ScopeClusters, ScopeSnapshots, ScopeExports, ScopeExportBuckets, ScopePipelines, ScopeRestoreJobs, ScopeBackupSchedules:
		return true
	}
	return false
}

// jsonDuration reads "1m30s" or a number of nanoseconds, and writes strings.
type jsonDuration time.Duration

func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("atlassim: duration %q: %w", s, err)
		}
		*d = jsonDuration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New(`atlassim: a duration is a string such as "250ms" or a number of nanoseconds`)
	}
	*d = jsonDuration(n)
	return nil
}

type faultsJSON struct {
	Latency                jsonDuration         `json:"latency,omitempty"`
	ErrorRate              float64              `json:"errorRate,omitempty"`
	ErrorStatus            int                  `json:"errorStatus,omitempty"`
	DropRate               float64              `json:"dropRate,omitempty"`
	PipelinesRetired       bool                 `json:"pipelinesRetired,omitempty"`
	PipelinesRetiredStatus int                  `json:"pipelinesRetiredStatus,omitempty"`
	Operations             map[string]opJSON    `json:"operations,omitempty"`
	RateLimits             map[string]limitJSON `json:"rateLimits,omitempty"`
}

type opJSON struct {
	ErrorRate float64      `json:"errorRate,omitempty"`
	Status    int          `json:"status,omitempty"`
	Latency   jsonDuration `json:"latency,omitempty"`
	DropRate  float64      `json:"dropRate,omitempty"`
}

type limitJSON struct {
	Limit  int          `json:"limit"`
	Window jsonDuration `json:"window"`
}

// MarshalJSON writes f with durations as strings.
func (f Faults) MarshalJSON() ([]byte, error) {
	j := faultsJSON{
		Latency: jsonDuration(f.Latency), ErrorRate: f.ErrorRate, ErrorStatus: f.ErrorStatus,
		DropRate: f.DropRate, PipelinesRetired: f.PipelinesRetired, PipelinesRetiredStatus: f.PipelinesRetiredStatus,
	}
	if len(f.Operations) > 0 {
		j.Operations = map[string]opJSON{}
		for k, v := range f.Operations {
			j.Operations[k] = opJSON{ErrorRate: v.ErrorRate, Status: v.Status, Latency: jsonDuration(v.Latency), DropRate: v.DropRate}
		}
	}
	if len(f.RateLimits) > 0 {
		j.RateLimits = map[string]limitJSON{}
		for k, v := range f.RateLimits {
			j.RateLimits[k] = limitJSON{Limit: v.Limit, Window: jsonDuration(v.Window)}
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads f; unknown fields are an error, so a typo in a fault
// never silently injects nothing.
func (f *Faults) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var j faultsJSON
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("atlassim: faults: %w", err)
	}
	*f = Faults{
		Latency: time.Duration(j.Latency), ErrorRate: j.ErrorRate, ErrorStatus: j.ErrorStatus,
		DropRate: j.DropRate, PipelinesRetired: j.PipelinesRetired, PipelinesRetiredStatus: j.PipelinesRetiredStatus,
	}
	if len(j.Operations) > 0 {
		f.Operations = map[string]OpFault{}
		for k, v := range j.Operations {
			f.Operations[k] = OpFault{ErrorRate: v.ErrorRate, Status: v.Status, Latency: time.Duration(v.Latency), DropRate: v.DropRate}
		}
	}
	if len(j.RateLimits) > 0 {
		f.RateLimits = map[string]RateLimit{}
		for k, v := range j.RateLimits {
			f.RateLimits[k] = RateLimit{Limit: v.Limit, Window: time.Duration(v.Window)}
		}
	}
	return nil
}

// Environment variables read by FaultsFromEnv.
const (
	// EnvFaults holds Faults as JSON.
	EnvFaults = "ATLAS_SIM_FAULTS"
	// EnvPipelinesRetired, when true, turns on the pipelines-retired mode.
	EnvPipelinesRetired = "ATLAS_SIM_PIPELINES_RETIRED"
	// EnvLatency adds latency to every call ("250ms").
	EnvLatency = "ATLAS_SIM_LATENCY"
)

// FaultsFromEnv reads faults from the environment through getenv (os.Getenv
// in production): EnvFaults as JSON, then EnvPipelinesRetired and EnvLatency
// on top of it.
func FaultsFromEnv(getenv func(string) string) (Faults, error) {
	var f Faults
	if s := getenv(EnvFaults); s != "" {
		if err := json.Unmarshal([]byte(s), &f); err != nil {
			return Faults{}, fmt.Errorf("atlassim: %s: %w", EnvFaults, err)
		}
	}
	if s := getenv(EnvPipelinesRetired); s != "" {
		v, err := strconv.ParseBool(s)
		if err != nil {
			return Faults{}, fmt.Errorf("atlassim: %s: %w", EnvPipelinesRetired, err)
		}
		f.PipelinesRetired = v
	}
	if s := getenv(EnvLatency); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return Faults{}, fmt.Errorf("atlassim: %s: %w", EnvLatency, err)
		}
		f.Latency = d
	}
	if err := f.validate(); err != nil {
		return Faults{}, fmt.Errorf("atlassim: faults from environment: %w", err)
	}
	return f, nil
}

// bucket is a token bucket whose level is computed from the clock.
type bucket struct {
	tokens float64
	last   time.Time
}

// take refills the bucket for the time since it was last used and takes one
// token if there is one. It returns the tokens left and, when refused, how
// long until a token is back.
func (b *bucket) take(now time.Time, rl RateLimit) (ok bool, remaining int, retryAfter time.Duration) {
	rate := float64(rl.Limit) / rl.Window.Seconds() // tokens per second
	if b.last.IsZero() {
		b.tokens = float64(rl.Limit)
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(float64(rl.Limit), b.tokens+d.Seconds()*rate)
	}
	if now.After(b.last) || b.last.IsZero() {
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, int(b.tokens), 0
	}
	wait := time.Duration((1 - b.tokens) / rate * float64(time.Second))
	return false, 0, wait
}

// peek is the number of whole tokens in the bucket now, without taking one.
func (b *bucket) peek(now time.Time, rl RateLimit) int {
	if b.last.IsZero() {
		return rl.Limit
	}
	rate := float64(rl.Limit) / rl.Window.Seconds()
	t := b.tokens
	if d := now.Sub(b.last); d > 0 {
		t = math.Min(float64(rl.Limit), t+d.Seconds()*rate)
	}
	return int(t)
}

// retryAfterSeconds rounds a wait up to whole seconds, at least one, as the
// Retry-After header counts.
func retryAfterSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}
