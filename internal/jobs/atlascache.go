package jobs

import (
	"sync"
	"time"
)

// What rarely changes in Atlas is remembered for a while, so a submission
// does not ask again for what the previous one just learnt: a cluster's type
// (replica set or sharded, which decides where its snapshots are read) and
// an export bucket's name and provider. Errors are never remembered, and
// what could block a request (a cluster's state, snapshots and exports in
// flight) is always asked.
const atlasCacheTTL = 10 * time.Minute

type ttlCache[V any] struct {
	mu      sync.Mutex
	entries map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v       V
	expires time.Time
}

func (c *ttlCache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || time.Now().After(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]ttlEntry[V]{}
	}
	if len(c.entries) > 10_000 { // bounded: start afresh rather than grow
		clear(c.entries)
	}
	c.entries[key] = ttlEntry[V]{v: v, expires: time.Now().Add(atlasCacheTTL)}
}
