package policy

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/snapdesk/snapdesk/internal/identity"
)

// Current holds the policy in force and swaps it on reload, so every
// request sees one whole policy, never half of two.
type Current struct {
	path string
	p    atomic.Pointer[Policy]
}

// Open parses the file at path: a bad file stops the server at start.
func Open(path string) (*Current, error) {
	p, err := ParseFile(path)
	if err != nil {
		return nil, err
	}
	c := &Current{path: path}
	c.p.Store(p)
	return c, nil
}

// Fixed is a Current that never reloads (dev mode's built-in policy, tests).
func Fixed(p *Policy) *Current {
	c := &Current{}
	c.p.Store(p)
	return c
}

// Policy is the policy in force.
func (c *Current) Policy() *Policy { return c.p.Load() }

// Path is the file the policy comes from ("" for a fixed policy).
func (c *Current) Path() string { return c.path }

// Can implements identity.Authorizer with the policy in force.
func (c *Current) Can(ctx context.Context, u identity.User, project string, perm identity.Permission) bool {
	return c.Policy().Can(ctx, u, project, perm)
}

// VisibleProjects implements identity.Authorizer with the policy in force.
func (c *Current) VisibleProjects(ctx context.Context, u identity.User) ([]string, bool) {
	return c.Policy().VisibleProjects(ctx, u)
}

// RestoreApproval asks the policy in force.
func (c *Current) RestoreApproval(project, delivery string) (bool, time.Duration) {
	return c.Policy().RestoreApproval(project, delivery)
}

// RestoreOntoItself asks the policy in force.
func (c *Current) RestoreOntoItself(project string) bool {
	return c.Policy().RestoreOntoItself(project)
}

// Drills are the drills of the policy in force.
func (c *Current) Drills() []Drill { return c.Policy().Drills }

// ExportApproval asks the policy in force.
func (c *Current) ExportApproval(project string) (bool, time.Duration) {
	return c.Policy().ExportApproval(project)
}

// Reload re-reads the file. A bad file keeps the old policy in force: a
// typo must not lock everyone out (or let everyone in).
func (c *Current) Reload() (*Policy, error) {
	p, err := ParseFile(c.path)
	if err != nil {
		return nil, err
	}
	c.p.Store(p)
	return p, nil
}

// Reloaded reports one reload: the new policy, or why the file was refused.
type Reloaded func(trigger string, p *Policy, err error)

// Watch reloads on SIGHUP and when the file changes, until ctx ends. It
// watches the directory, not the file, so editors that replace the file
// and Kubernetes ConfigMap symlink swaps are both seen.
func (c *Current) Watch(ctx context.Context, report Reloaded) error {
	if c.path == "" {
		<-ctx.Done()
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Add(filepath.Dir(c.path)); err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	// Writes come in bursts; reload once the burst is over.
	var settle <-chan time.Time
	last := c.Policy().Digest
	reload := func(trigger string) {
		p, err := c.Reload()
		if err == nil && p.Digest == last && trigger == "file" {
			return // touched, not changed
		}
		if err == nil {
			last = p.Digest
		}
		report(trigger, p, err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			reload("SIGHUP")
		case ev := <-w.Events:
			if ev.Has(fsnotify.Chmod) && !ev.Has(fsnotify.Write) && !ev.Has(fsnotify.Create) {
				continue
			}
			settle = time.After(200 * time.Millisecond)
		case <-settle:
			settle = nil
			reload("file")
		case err := <-w.Errors:
			report("file", nil, err)
		}
	}
}
