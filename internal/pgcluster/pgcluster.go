// Package pgcluster runs a private PostgreSQL cluster in a directory of the
// project (for `make run` and the tests) with the machine's own Postgres
// server binaries, so nothing has to be set up by hand.
package pgcluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options says where and how the private cluster runs.
type Options struct {
	// Dir holds the cluster's data directory, socket and log.
	Dir string
	// Port is the TCP port on 127.0.0.1; 0 picks a free one the first time
	// and reuses it afterwards (it is remembered in Dir).
	Port int
	// Fast turns fsync and friends off: for tests, never for data you keep.
	Fast bool
	// Log receives progress lines; nil discards them.
	Log func(format string, args ...any)
}

// Cluster is a running private cluster.
type Cluster struct {
	opts    Options
	dataDir string
	port    int
	bin     string
	asUser  string // "postgres" when we run as root, else ""
	started bool   // whether this process started it (and so should stop it)
	home    string // where data, socket and log live: opts.Dir unless the postgres user cannot reach it
}

// ErrNoServer means no PostgreSQL server binaries were found.
var ErrNoServer = errors.New("pgcluster: PostgreSQL server binaries not found: install them (Debian: apt-get install -y postgresql)")

// Start starts the cluster in opts.Dir, creating it if needed, or reuses it
// when it is already running. It installs the Debian postgresql package
// first when it runs as root and the binaries are missing.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Log == nil {
		opts.Log = func(string, ...any) {}
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	opts.Dir = dir
	bin, err := findBinDir()
	if errors.Is(err, ErrNoServer) && os.Geteuid() == 0 {
		opts.Log("installing the postgresql package with apt-get")
		if ierr := aptInstallPostgres(ctx); ierr != nil {
			return nil, fmt.Errorf("pgcluster: installing postgresql: %w", ierr)
		}
		bin, err = findBinDir()
	}
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, home: dir, dataDir: filepath.Join(dir, "data"), bin: bin}
	if os.Geteuid() == 0 {
		c.asUser = "postgres"
		if _, err := user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("pgcluster: running as root needs the postgres system user: %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	if err := c.choosePort(); err != nil {
		return nil, err
	}
	if c.asUser != "" && !c.canEnter(ctx, dir) {
		// The postgres user cannot reach dir (e.g. a clone inside a private
		// temporary directory): keep the cluster in a place it can reach,
		// named after dir so each checkout still has its own.
		c.home = fallbackHome(dir)
		opts.Log("the postgres user cannot enter %s; keeping the cluster in %s", dir, c.home)
		if err := os.MkdirAll(c.home, 0o755); err != nil {
			return nil, fmt.Errorf("pgcluster: %w", err)
		}
		c.dataDir = filepath.Join(c.home, "data")
	}
	if err := c.initdb(ctx); err != nil {
		return nil, err
	}
	if c.running(ctx) {
		opts.Log("reusing the private Postgres in %s (port %d)", dir, c.port)
		return c, nil
	}
	if err := c.start(ctx); err != nil {
		return nil, err
	}
	c.started = true
	return c, nil
}

// URL is the connection string of database name on the cluster.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// Port is the TCP port the cluster listens on.
func (c *Cluster) Port() int { return c.port }

// StartedHere reports whether Start launched the server (rather than reused it).
func (c *Cluster) StartedHere() bool { return c.started }

// Stop shuts the server down (fast mode: running sessions are ended).
func (c *Cluster) Stop(ctx context.Context) error {
	if err := c.run(ctx, "pg_ctl", "-D", c.dataDir, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pgcluster: stop: %w", err)
	}
	return nil
}

func (c *Cluster) choosePort() error {
	portFile := filepath.Join(c.opts.Dir, "port")
	if c.opts.Port != 0 {
		c.port = c.opts.Port
	} else if b, err := os.ReadFile(portFile); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			c.port = p
		}
	}
	if c.port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("pgcluster: pick a port: %w", err)
		}
		c.port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	return os.WriteFile(portFile, []byte(strconv.Itoa(c.port)), 0o644)
}

func (c *Cluster) initdb(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); err == nil {
		return nil
	}
	c.opts.Log("creating a private Postgres cluster in %s", c.home)
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := c.chown(c.home); err != nil {
		return err
	}
	if err := c.run(ctx, "initdb", "-D", c.dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"); err != nil {
		return fmt.Errorf("pgcluster: initdb: %w", err)
	}
	return nil
}

func (c *Cluster) start(ctx context.Context) error {
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c max_connections=300", c.port, c.home)
	if c.opts.Fast {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	logFile := filepath.Join(c.home, "postgres.log")
	c.opts.Log("starting Postgres on 127.0.0.1:%d (log: %s)", c.port, logFile)
	if err := c.run(ctx, "pg_ctl", "-D", c.dataDir, "-o", opts, "-l", logFile, "-w", "-t", "60", "start"); err != nil {
		return fmt.Errorf("pgcluster: start (see %s): %w", logFile, err)
	}
	return nil
}

func (c *Cluster) running(ctx context.Context) bool {
	return c.run(ctx, "pg_ctl", "-D", c.dataDir, "status") == nil
}

// run runs a server binary, as the postgres user when we are root, because
// the server refuses to run as root.
func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.asUser != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	// The server must outlive a Ctrl-C sent to our process group; we stop it ourselves.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func fallbackHome(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(os.TempDir(), "snapdesk-pg-"+hex.EncodeToString(sum[:6]))
}

// StopIn stops the cluster that Start would use for dir, if one runs.
func StopIn(ctx context.Context, dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	bin, err := findBinDir()
	if err != nil {
		return err
	}
	for _, home := range []string{dir, fallbackHome(dir)} {
		c := &Cluster{home: home, dataDir: filepath.Join(home, "data"), bin: bin}
		if os.Geteuid() == 0 {
			c.asUser = "postgres"
		}
		if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); err != nil || !c.running(ctx) {
			continue
		}
		if err := c.Stop(ctx); err != nil {
			return err
		}
	}
	return nil
}

// canEnter reports whether the postgres user can reach dir.
func (c *Cluster) canEnter(ctx context.Context, dir string) bool {
	return exec.CommandContext(ctx, "runuser", "-u", c.asUser, "--", "test", "-x", dir).Run() == nil
}

func (c *Cluster) chown(dir string) error {
	if c.asUser == "" {
		return nil
	}
	u, err := user.Lookup(c.asUser)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	err = filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		return fmt.Errorf("pgcluster: chown %s: %w", dir, err)
	}
	return nil
}

// findBinDir finds the newest /usr/lib/postgresql/N/bin, or initdb on PATH.
func findBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNoServer
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func aptInstallPostgres(ctx context.Context) error {
	for _, args := range [][]string{{"update"}, {"install", "-y", "postgresql"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %w: %s", args[0], err, lastLines(string(out), 5))
		}
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WaitReady waits until the server accepts TCP connections.
func (c *Cluster) WaitReady(ctx context.Context) error {
	addr := fmt.Sprintf("127.0.0.1:%d", c.port)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgcluster: waiting for %s: %w", addr, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
