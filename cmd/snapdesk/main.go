// Command snapdesk is the command-line client of Snapdesk's automation API,
// for CI steps and scripts: take a snapshot before a migration and wait
// for it, export a snapshot, trigger an ingestion, follow a job.
//
// It reads SNAPDESK_URL (the dashboard's address) and SNAPDESK_TOKEN (an
// API token; never a flag, so it stays out of shell history and process
// lists). Exit codes a CI step can act on:
//
//	0  succeeded (without --wait: accepted)
//	1  error: Snapdesk unreachable, or a fault on its side
//	2  usage: a flag or argument is wrong
//	3  refused: by Snapdesk (token, role, preflight, idempotency) or by an approver
//	4  failed in Atlas: Atlas refused the request, or the job ended failed
//	5  timed out: the job had not ended when --timeout was up (it goes on)
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
)

// Exit codes.
const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	exitRefused = 3
	exitFailed  = 4
	exitTimeout = 5
)

const usage = `snapdesk: Snapdesk's command-line client (SNAPDESK_URL, SNAPDESK_TOKEN)

  snapdesk snapshot take --project ID --cluster NAME [--description TEXT] [--retention-days N] [--wait]
  snapdesk export --project ID --cluster NAME --snapshot ID --bucket ID [--custom KEY=VALUE]... [--again] [--wait]
  snapdesk ingest --project ID --pipeline NAME --snapshot ID [--retention UNITS:N] [--wait]
  snapdesk restore --project ID --cluster NAME --delivery automated|download|pointInTime [--snapshot ID]
                   [--target-project ID --target-cluster NAME --confirm NAME] [--point-in-time RFC3339] [--wait]
  snapdesk jobs get ID
  snapdesk jobs downloads ID
  snapdesk jobs watch ID
  snapdesk jobs list [--project ID] [--kind KIND] [--state STATE]
  snapdesk jobs approve|cancel ID
  snapdesk jobs reject ID --reason TEXT
  snapdesk projects
  snapdesk snapshots [--project ID] [--cluster NAME] [--status STATUS] [--via snapdesk|other]
  snapdesk health [--project ID] [--state green|amber|red]

Flags of every command: --output text|json, --timeout DURATION (with --wait and watch; default 30m),
--idempotency-key KEY (actions; default: a new one per run, reused for retries).
Exit codes: 0 succeeded, 1 error, 2 usage, 3 refused, 4 failed in Atlas, 5 timed out.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// cli is one run of the command.
type cli struct {
	base, token string
	http        *http.Client
	out, errOut io.Writer
	json        bool
	// tty: progress is redrawn in place on the terminal.
	tty bool
	// shown is the progress line last shown (a log gets a line per change).
	shown string
}

// exitError carries the exit code of a failed run.
type exitErr struct {
	code int
	msg  string
}

func (e *exitErr) Error() string { return e.msg }

func fail(code int, format string, args ...any) error {
	return &exitErr{code: code, msg: fmt.Sprintf(format, args...)}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, getenv, stdout, stderr)
	if err == nil {
		return exitOK
	}
	var e *exitErr
	if errors.As(err, &e) {
		if e.msg != "" {
			fmt.Fprintln(stderr, "snapdesk: "+e.msg)
		}
		return e.code
	}
	fmt.Fprintln(stderr, "snapdesk: "+err.Error())
	return exitError
}

// common are the flags every command takes.
type common struct {
	output  string
	timeout time.Duration
	key     string
	wait    bool
}

func newFlags(name string, c *common, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.output, "output", "text", "text or json")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Minute, "how long --wait and watch wait for the job to end")
	fs.StringVar(&c.key, "idempotency-key", "", "names the request, so a retried run never acts twice (default: new each run)")
	fs.BoolVar(&c.wait, "wait", false, "wait for the job to end; the exit code says how it ended")
	return fs
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return &exitErr{code: exitUsage}
		}
		return nil
	}
	var c common
	cmd, rest := args[0], args[1:]
	if cmd == "snapshot" || cmd == "jobs" {
		if len(rest) == 0 {
			return fail(exitUsage, "%s needs a subcommand; see snapdesk help", cmd)
		}
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	fs := newFlags(cmd, &c, stderr)
	var (
		project, cluster, description, snapshot, bucket, pipeline, retention, kind, state, reason string
		via, delivery, targetProject, targetCluster, confirm, pointInTime                         string
		retentionDays                                                                             int
		again                                                                                     bool
		custom                                                                                    multi
	)
	switch cmd {
	case "snapshot take":
		fs.StringVar(&project, "project", "", "Atlas project id")
		fs.StringVar(&cluster, "cluster", "", "cluster name")
		fs.StringVar(&description, "description", "", "shown in Atlas beside the snapshot")
		fs.IntVar(&retentionDays, "retention-days", 7, "days Atlas keeps the snapshot")
	case "export":
		fs.StringVar(&project, "project", "", "Atlas project id")
		fs.StringVar(&cluster, "cluster", "", "cluster name")
		fs.StringVar(&snapshot, "snapshot", "", "snapshot id")
		fs.StringVar(&bucket, "bucket", "", "export bucket id")
		fs.Var(&custom, "custom", "KEY=VALUE custom data for the export (repeatable)")
		fs.BoolVar(&again, "again", false, "export even if the bucket already holds an export of this snapshot (a second copy)")
	case "ingest":
		fs.StringVar(&project, "project", "", "Atlas project id")
		fs.StringVar(&pipeline, "pipeline", "", "Data Lake pipeline name")
		fs.StringVar(&snapshot, "snapshot", "", "snapshot id")
		fs.StringVar(&retention, "retention", "", "dataset retention, UNITS:N with UNITS DAYS, WEEKS or MONTHS (default: the pipeline's)")
	case "restore":
		fs.StringVar(&project, "project", "", "Atlas project id of the source cluster")
		fs.StringVar(&cluster, "cluster", "", "source cluster name")
		fs.StringVar(&snapshot, "snapshot", "", "snapshot id (not for pointInTime)")
		fs.StringVar(&delivery, "delivery", "", "automated (onto a cluster), download (links) or pointInTime")
		fs.StringVar(&targetProject, "target-project", "", "project of the cluster whose data is replaced")
		fs.StringVar(&targetCluster, "target-cluster", "", "cluster whose data is replaced")
		fs.StringVar(&confirm, "confirm", "", "the target cluster's name again, to confirm its data is replaced")
		fs.StringVar(&pointInTime, "point-in-time", "", "RFC 3339 time to restore to")
	case "jobs list":
		fs.StringVar(&project, "project", "", "Atlas project id")
		fs.StringVar(&kind, "kind", "", "snapshot, export or ingestion")
		fs.StringVar(&state, "state", "", "a job state")
	case "jobs reject":
		fs.StringVar(&reason, "reason", "", "why (the requester sees it)")
	case "snapshots":
		fs.StringVar(&project, "project", "", "Atlas project id")
		fs.StringVar(&cluster, "cluster", "", "cluster name")
		fs.StringVar(&state, "status", "", "queued, inProgress, completed, failed or expired")
		fs.StringVar(&via, "via", "", "snapdesk (taken through Snapdesk) or other")
	case "health":
		fs.StringVar(&project, "project", "", "Atlas project id")
		fs.StringVar(&state, "state", "", "green, amber or red")
	case "jobs get", "jobs watch", "jobs approve", "jobs cancel", "jobs downloads", "projects":
	default:
		return fail(exitUsage, "unknown command %q; see snapdesk help", cmd)
	}
	args, err := parseInterleaved(fs, rest)
	if err != nil {
		return &exitErr{code: exitUsage}
	}
	if c.output != "text" && c.output != "json" {
		return fail(exitUsage, "--output is text or json")
	}
	cl, err := newCLI(getenv, stdout, stderr, c.output == "json")
	if err != nil {
		return err
	}
	if c.key == "" {
		c.key = newKey()
	}
	need := func(flags ...string) error {
		for i := 0; i+1 < len(flags); i += 2 {
			if flags[i+1] == "" {
				return fail(exitUsage, "%s needs --%s", cmd, flags[i])
			}
		}
		return nil
	}
	jobArg := func() (string, error) {
		if len(args) != 1 {
			return "", fail(exitUsage, "%s needs one job id", cmd)
		}
		return args[0], nil
	}
	switch cmd {
	case "snapshot take":
		if err := need("project", project, "cluster", cluster); err != nil {
			return err
		}
		path := "/projects/" + url.PathEscape(project) + "/clusters/" + url.PathEscape(cluster) + "/snapshots"
		return cl.act(ctx, path, map[string]any{"description": description, "retentionInDays": retentionDays}, c)
	case "export":
		if err := need("project", project, "cluster", cluster, "snapshot", snapshot, "bucket", bucket); err != nil {
			return err
		}
		body := map[string]any{"snapshotId": snapshot, "exportBucketId": bucket}
		if again {
			body["exportAgain"] = true
		}
		if len(custom) > 0 {
			data := map[string]string{}
			for _, kv := range custom {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return fail(exitUsage, "--custom takes KEY=VALUE, not %q", kv)
				}
				data[k] = v
			}
			body["customData"] = data
		}
		return cl.act(ctx, "/projects/"+url.PathEscape(project)+"/clusters/"+url.PathEscape(cluster)+"/exports", body, c)
	case "ingest":
		if err := need("project", project, "pipeline", pipeline, "snapshot", snapshot); err != nil {
			return err
		}
		body := map[string]any{"snapshotId": snapshot}
		if retention != "" {
			units, n, ok := strings.Cut(retention, ":")
			value, err := strconv.Atoi(n)
			if !ok || err != nil {
				return fail(exitUsage, "--retention takes UNITS:N, e.g. WEEKS:2")
			}
			body["datasetRetentionPolicy"] = map[string]any{"units": strings.ToUpper(units), "value": value}
		}
		return cl.act(ctx, "/projects/"+url.PathEscape(project)+"/pipelines/"+url.PathEscape(pipeline)+"/runs", body, c)
	case "restore":
		if err := need("project", project, "cluster", cluster, "delivery", delivery); err != nil {
			return err
		}
		body := map[string]any{"deliveryType": delivery}
		for k, v := range map[string]string{"snapshotId": snapshot, "targetProjectId": targetProject, "targetClusterName": targetCluster,
			"confirmName": confirm, "pointInTime": pointInTime} {
			if v != "" {
				body[k] = v
			}
		}
		return cl.act(ctx, "/projects/"+url.PathEscape(project)+"/clusters/"+url.PathEscape(cluster)+"/restores", body, c)
	case "jobs downloads":
		id, err := jobArg()
		if err != nil {
			return err
		}
		_, b, err := cl.send(ctx, http.MethodGet, "/jobs/"+url.PathEscape(id)+"/downloads", nil, nil)
		if err != nil {
			return asExit(err)
		}
		if cl.json {
			_, err := cl.out.Write(b)
			return err
		}
		var d struct {
			URLs []string `json:"urls"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			return fail(exitError, "unreadable answer: %v", err)
		}
		for _, u := range d.URLs {
			fmt.Fprintln(cl.out, u)
		}
		return nil
	case "jobs get":
		id, err := jobArg()
		if err != nil {
			return err
		}
		j, _, err := cl.getJob(ctx, id, "", 0)
		if err != nil {
			return err
		}
		return cl.printJob(j)
	case "jobs watch":
		id, err := jobArg()
		if err != nil {
			return err
		}
		return cl.follow(ctx, id, c.timeout)
	case "jobs approve", "jobs cancel", "jobs reject":
		id, err := jobArg()
		if err != nil {
			return err
		}
		verb := strings.TrimPrefix(cmd, "jobs ")
		var body any
		if verb == "reject" {
			if err := need("reason", reason); err != nil {
				return err
			}
			body = map[string]any{"reason": reason}
		}
		return cl.act(ctx, "/jobs/"+url.PathEscape(id)+"/"+verb, body, c)
	case "jobs list":
		return cl.list(ctx, "/jobs?"+query("project", project, "kind", kind, "state", state))
	case "projects":
		return cl.list(ctx, "/projects")
	case "snapshots":
		return cl.list(ctx, "/snapshots?"+query("project", project, "cluster", cluster, "status", state, "via", via))
	case "health":
		return cl.list(ctx, "/health?"+query("project", project, "state", state))
	}
	return nil
}

// parseInterleaved parses flags wherever they are (`jobs get ID --output
// json` as well as `jobs get --output json ID`) and returns the arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// query is the query string of the non-empty name, value pairs.
func query(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q.Encode()
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "cli-" + hex.EncodeToString(b)
}

func newCLI(getenv func(string) string, stdout, stderr io.Writer, jsonOut bool) (*cli, error) {
	base := strings.TrimSuffix(getenv("SNAPDESK_URL"), "/")
	if base == "" {
		return nil, fail(exitUsage, "set SNAPDESK_URL to Snapdesk's address, e.g. https://snapdesk.example.com")
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fail(exitUsage, "SNAPDESK_URL %q is not an http(s) URL", base)
	}
	token := getenv("SNAPDESK_TOKEN")
	if token == "" {
		return nil, fail(exitUsage, "set SNAPDESK_TOKEN to an API token (create one on Snapdesk's API tokens page)")
	}
	c := &cli{base: base + "/api/v1", token: token, http: &http.Client{Timeout: 90 * time.Second}, out: stdout, errOut: stderr, json: jsonOut}
	if f, ok := stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		c.tty = true
	}
	return c, nil
}

// problem is an RFC 9457 answer of the API.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	ErrorCode string `json:"errorCode"`
	JobID     string `json:"jobId"`
	Errors    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (p *problem) Error() string {
	var b strings.Builder
	b.WriteString(p.Title)
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	if p.ErrorCode != "" {
		b.WriteString(" (Atlas " + p.ErrorCode + ")")
	}
	if p.JobID != "" {
		b.WriteString(" [job " + p.JobID + "]")
	}
	return b.String()
}

// exitCode is what a refusal means for a CI step.
func (p *problem) exitCode() int {
	switch {
	case strings.HasSuffix(p.Type, "/atlas-refused"):
		return exitFailed
	case p.Status >= 500:
		return exitError
	default:
		return exitRefused
	}
}

// send makes one request, retrying (with the same Idempotency-Key) when
// Snapdesk is unreachable, overloaded or rate-limits the token.
func (c *cli) send(ctx context.Context, method, path string, body any, header map[string]string) (*http.Response, []byte, error) {
	var payload []byte
	if body != nil {
		payload, _ = json.Marshal(body)
	}
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		if attempt > 0 {
			delay := time.Duration(attempt) * time.Second
			select {
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			case <-time.After(delay):
			}
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(payload))
		if err != nil {
			return nil, nil, fail(exitUsage, "%v", err)
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "snapdesk-cli")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			lastErr = fmt.Errorf("%s %s: %w", method, path, err)
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable ||
			resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusGatewayTimeout {
			if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && ra > 0 && ra <= 60 && attempt < 3 {
				select {
				case <-ctx.Done():
					return nil, nil, ctx.Err()
				case <-time.After(time.Duration(ra) * time.Second):
				}
			}
			lastErr = problemOf(resp, b)
			continue
		}
		if resp.StatusCode >= 400 {
			return resp, b, problemOf(resp, b)
		}
		return resp, b, nil
	}
	var p *problem
	if errors.As(lastErr, &p) {
		return nil, nil, &exitErr{code: p.exitCode(), msg: p.Error()}
	}
	return nil, nil, fail(exitError, "%v", lastErr)
}

func problemOf(resp *http.Response, body []byte) error {
	p := &problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		_ = json.Unmarshal(body, p)
	}
	return p
}

// asExit turns an API refusal into the run's exit.
func asExit(err error) error {
	var p *problem
	if errors.As(err, &p) {
		msg := p.Error()
		for _, f := range p.Errors {
			msg += "\n  " + f.Field + ": " + f.Message
		}
		return &exitErr{code: p.exitCode(), msg: msg}
	}
	return err
}

// job is what the CLI reads of a job.
type job struct {
	ID           string `json:"id"`
	Kind         string `json:"kind"`
	State        string `json:"state"`
	Ended        bool   `json:"ended"`
	AtlasID      string `json:"atlasId"`
	AtlasState   string `json:"atlasState"`
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	PageURL      string `json:"pageUrl"`
	Decision     string `json:"decision"`
	Reason       string `json:"decisionReason"`
	Progress     struct {
		ExportedCollections int    `json:"exportedCollections"`
		TotalCollections    int    `json:"totalCollections"`
		Phase               string `json:"phase"`
	} `json:"progress"`
	raw []byte
}

// act posts an action and, with --wait, follows the job it made.
func (c *cli) act(ctx context.Context, path string, body any, o common) error {
	_, b, err := c.send(ctx, http.MethodPost, path, body, map[string]string{"Idempotency-Key": o.key})
	if err != nil {
		return asExit(err)
	}
	var j job
	if err := json.Unmarshal(b, &j); err != nil {
		return fail(exitError, "unreadable answer: %v", err)
	}
	j.raw = b
	if o.wait {
		c.progress(j)
	}
	if !o.wait || j.Ended {
		if c.tty && o.wait {
			fmt.Fprintln(c.errOut)
		}
		if err := c.printJob(j); err != nil {
			return err
		}
		if decision(path) && !o.wait {
			return nil // a decision that was taken is the success, whatever the job's state
		}
		return outcome(j, o.wait)
	}
	return c.follow(ctx, j.ID, o.timeout)
}

// decision reports whether path approves, rejects or cancels a job.
func decision(path string) bool {
	return strings.HasSuffix(path, "/approve") || strings.HasSuffix(path, "/reject") || strings.HasSuffix(path, "/cancel")
}

// getJob reads a job, waiting up to wait for it to differ from etag.
func (c *cli) getJob(ctx context.Context, id, etag string, wait time.Duration) (job, string, error) {
	path := "/jobs/" + url.PathEscape(id)
	if wait > 0 {
		path += "?wait=" + strconv.Itoa(int(wait/time.Second)) + "s"
	}
	h := map[string]string{}
	if etag != "" {
		h["If-None-Match"] = etag
	}
	resp, b, err := c.send(ctx, http.MethodGet, path, nil, h)
	if err != nil {
		return job{}, "", asExit(err)
	}
	var j job
	if err := json.Unmarshal(b, &j); err != nil {
		return job{}, "", fail(exitError, "unreadable answer: %v", err)
	}
	j.raw = b
	return j, resp.Header.Get("ETag"), nil
}

// follow long-polls the job until it ends or timeout is up.
func (c *cli) follow(ctx context.Context, id string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	etag := ""
	var j job
	for {
		left := time.Until(deadline)
		wait := min(30*time.Second, left.Truncate(time.Second))
		var err error
		j, etag, err = c.getJob(ctx, id, etag, wait)
		if err != nil {
			return err
		}
		c.progress(j)
		if j.Ended {
			break
		}
		if time.Until(deadline) < time.Second {
			if c.tty {
				fmt.Fprintln(c.errOut)
			}
			if err := c.printJob(j); err != nil {
				return err
			}
			return fail(exitTimeout, "job %s had not ended after %v (it goes on; follow it with: snapdesk jobs watch %s)", j.ID, timeout, j.ID)
		}
	}
	if c.tty {
		fmt.Fprintln(c.errOut)
	}
	if err := c.printJob(j); err != nil {
		return err
	}
	return outcome(j, true)
}

// outcome is the exit for a job: with wait, how it ended.
func outcome(j job, waited bool) error {
	switch j.State {
	case "failed":
		msg := "job " + j.ID + " failed"
		if j.ErrorMessage != "" {
			msg += ": " + j.ErrorMessage
		}
		if j.ErrorCode != "" {
			msg += " (Atlas " + j.ErrorCode + ")"
		}
		return fail(exitFailed, "%s", msg)
	case "cancelled":
		why := j.Decision
		if j.Reason != "" {
			why += ": " + j.Reason
		}
		if why == "" {
			why = j.ErrorMessage
		}
		return fail(exitRefused, "job %s was cancelled (%s)", j.ID, why)
	}
	if waited && j.State != "succeeded" {
		return fail(exitError, "job %s is %s", j.ID, j.State)
	}
	return nil
}

// progress shows where a job is on stderr: redrawn on a terminal, a line
// per change otherwise.
func (c *cli) progress(j job) {
	line := fmt.Sprintf("%s %s: %s", j.Kind, j.ID, strings.ReplaceAll(j.State, "_", " "))
	if j.Progress.TotalCollections > 0 {
		line += fmt.Sprintf(" (%d/%d collections)", j.Progress.ExportedCollections, j.Progress.TotalCollections)
	} else if j.Progress.Phase != "" {
		line += " (" + j.Progress.Phase + ")"
	}
	if line == c.shown {
		return
	}
	c.shown = line
	if c.tty {
		fmt.Fprintf(c.errOut, "\r\033[K%s", line)
		return
	}
	fmt.Fprintln(c.errOut, line)
}

func (c *cli) printJob(j job) error {
	if c.json {
		_, err := c.out.Write(j.raw)
		return err
	}
	fmt.Fprintf(c.out, "job      %s\nkind     %s\nstate    %s\n", j.ID, j.Kind, j.State)
	if j.AtlasID != "" {
		fmt.Fprintf(c.out, "atlas id %s\n", j.AtlasID)
	}
	if j.ErrorMessage != "" || j.ErrorCode != "" {
		fmt.Fprintf(c.out, "error    %s %s\n", j.ErrorCode, j.ErrorMessage)
	}
	if j.Decision != "" {
		fmt.Fprintf(c.out, "decision %s %s\n", j.Decision, j.Reason)
	}
	if j.PageURL != "" {
		fmt.Fprintf(c.out, "page     %s\n", j.PageURL)
	}
	return nil
}

// list prints a list answer: JSON as is, or one line per item.
func (c *cli) list(ctx context.Context, path string) error {
	_, b, err := c.send(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return asExit(err)
	}
	if c.json {
		_, err := c.out.Write(b)
		return err
	}
	var l struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return fail(exitError, "unreadable answer: %v", err)
	}
	for _, it := range l.Items {
		var parts []string
		for _, k := range []string{"state", "id", "name", "kind", "status", "projectId", "clusterName", "pipelineName", "createdAt", "reasons"} {
			v, ok := it[k]
			if !ok || v == "" {
				continue
			}
			if list, isList := v.([]any); isList {
				var words []string
				for _, w := range list {
					words = append(words, fmt.Sprint(w))
				}
				v = strings.Join(words, "; ")
			}
			parts = append(parts, fmt.Sprint(v))
		}
		fmt.Fprintln(c.out, strings.Join(parts, "  "))
	}
	return nil
}
