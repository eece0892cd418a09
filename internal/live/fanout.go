package live

import "sync"

// Fanout hands each published value to the subscribers that want it. A
// subscriber too slow to keep up misses values rather than holding up the
// others (a page catches up on its next event or reload). The zero value
// is ready to use.
type Fanout[T any] struct {
	mu     sync.Mutex
	subs   map[*fanoutSub[T]]struct{}
	closed bool
}

type fanoutSub[T any] struct {
	ch   chan T
	want func(T) bool
}

// Subscribe returns a channel of the values want accepts (nil: all;
// want is called for every value, from the publisher's goroutine: it must
// be quick and must not block) and a function that ends the
// subscription. The channel is closed when the fan-out closes.
func (f *Fanout[T]) Subscribe(want func(T) bool) (<-chan T, func()) {
	s := &fanoutSub[T]{ch: make(chan T, 64), want: want}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		close(s.ch)
		return s.ch, func() {}
	}
	if f.subs == nil {
		f.subs = map[*fanoutSub[T]]struct{}{}
	}
	f.subs[s] = struct{}{}
	f.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			f.mu.Lock()
			if _, ok := f.subs[s]; ok {
				delete(f.subs, s)
				close(s.ch)
			}
			f.mu.Unlock()
		})
	}
}

// Publish hands v to the subscribers that want it, without waiting for
// any of them.
func (f *Fanout[T]) Publish(v T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		if s.want != nil && !s.want(v) {
			continue
		}
		select {
		case s.ch <- v:
		default:
		}
	}
}

// Close ends every subscription (their channels close) and refuses new
// ones. The server calls it when shutting down: http.Server.Shutdown does
// not cancel the requests it waits for, so open event streams would
// otherwise hold shutdown for its whole timeout.
func (f *Fanout[T]) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for s := range f.subs {
		close(s.ch)
		delete(f.subs, s)
	}
}

// Subscribers is the number of open subscriptions.
func (f *Fanout[T]) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}
