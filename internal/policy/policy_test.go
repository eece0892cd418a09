package policy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/identity"
)

const (
	payments  = "65a1b2c3d4e5f60718293a01"
	reporting = "65a1b2c3d4e5f60718293a02"
	other     = "65a1b2c3d4e5f60718293a03"
)

const sample = `grants:
  - project: "*"
    role: viewer
    groups: [engineering]
  - project: 65a1b2c3d4e5f60718293a01
    role: operator
    groups: [payments-oncall]
    emails: [Alice@Example.com]
  - project: 65a1b2c3d4e5f60718293a02
    role: admin
    groups: [reporting-leads]
approvals:
  - project: 65a1b2c3d4e5f60718293a01
    exports: true
    expire_after: 2h
`

func mustParse(t *testing.T, src string) *Policy {
	t.Helper()
	p, err := Parse("policy.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRolesPerProject(t *testing.T) {
	p := mustParse(t, sample)
	ctx := context.Background()
	engineer := identity.User{Subject: "e", Groups: []string{"engineering"}}
	oncall := identity.User{Subject: "o", Groups: []string{"payments-oncall"}}
	alice := identity.User{Subject: "a", Email: "alice@example.com"}
	lead := identity.User{Subject: "l", Groups: []string{"reporting-leads"}}
	stranger := identity.User{Subject: "s", Email: "s@example.com", Groups: []string{"sales"}}
	anonymous := identity.User{Groups: []string{"engineering"}}

	cases := []struct {
		name    string
		u       identity.User
		project string
		perm    identity.Permission
		want    bool
	}{
		{"viewer everywhere sees", engineer, other, identity.PermView, true},
		{"viewer does not operate", engineer, payments, identity.PermOperate, false},
		{"operator by group operates", oncall, payments, identity.PermOperate, true},
		{"operator may approve", oncall, payments, identity.PermApprove, true},
		{"operator of one project not of another", oncall, reporting, identity.PermOperate, false},
		{"operator of one project does not see another", oncall, reporting, identity.PermView, false},
		{"operator by email, case-insensitive", alice, payments, identity.PermOperate, true},
		{"operator does not download the audit trail", oncall, payments, identity.PermAuditDownload, false},
		{"admin downloads their project's trail", lead, reporting, identity.PermAuditDownload, true},
		{"admin does not download another project's", lead, payments, identity.PermAuditDownload, false},
		{"admin sees every project", lead, payments, identity.PermView, true},
		{"admin does not operate elsewhere", lead, payments, identity.PermOperate, false},
		{"deny by default", stranger, payments, identity.PermView, false},
		{"no subject, no access", anonymous, payments, identity.PermView, false},
		{"unknown permission", lead, reporting, identity.Permission("delete"), false},
	}
	for _, c := range cases {
		if got := p.Can(ctx, c.u, c.project, c.perm); got != c.want {
			t.Errorf("%s: Can(%s, %s, %s) = %v", c.name, c.u.Subject, c.project, c.perm, got)
		}
	}

	if ids, all := p.VisibleProjects(ctx, oncall); all || len(ids) != 1 || ids[0] != payments {
		t.Errorf("oncall sees %v (all=%v), want only %s", ids, all, payments)
	}
	if _, all := p.VisibleProjects(ctx, engineer); !all {
		t.Error("a viewer of * should see every project")
	}
	if _, all := p.VisibleProjects(ctx, lead); !all {
		t.Error("an admin should see every project")
	}
	if ids, all := p.VisibleProjects(ctx, stranger); all || len(ids) != 0 {
		t.Errorf("stranger sees %v (all=%v)", ids, all)
	}
}

func TestExportApproval(t *testing.T) {
	p := mustParse(t, sample)
	if req, exp := p.ExportApproval(payments); !req || exp != 2*time.Hour {
		t.Errorf("payments: required=%v expire=%v, want true 2h", req, exp)
	}
	if req, _ := p.ExportApproval(reporting); req {
		t.Error("reporting exports should not need approval")
	}
	p = mustParse(t, "approvals:\n  - project: \"*\"\n    exports: true\n")
	if req, exp := p.ExportApproval(other); !req || exp != DefaultApprovalExpiry {
		t.Errorf("*: required=%v expire=%v, want true %v", req, exp, DefaultApprovalExpiry)
	}
}

func TestErrorsNameTheLine(t *testing.T) {
	cases := []struct {
		name, src string
		line      int
		want      string
	}{
		{"unknown role", "grants:\n  - project: \"*\"\n    role: owner\n    groups: [x]\n", 3, `role "owner"`},
		{"bad project id", "grants:\n  - project: \"*\"\n    role: viewer\n    groups: [x]\n  - project: payments\n    role: viewer\n    groups: [x]\n", 5, `project "payments"`},
		{"nobody named", "grants:\n  - project: \"*\"\n    role: viewer\n", 2, "no groups and no emails"},
		{"unknown key", "grants:\n  - project: \"*\"\n    role: viewer\n    group: [x]\n", 4, "group"},
		{"bad email", "grants:\n  - project: \"*\"\n    role: viewer\n    emails: [alice]\n", 4, `email "alice"`},
		{"bad expiry", "approvals:\n  - project: \"*\"\n    exports: true\n    expire_after: soon\n", 4, `expire_after "soon"`},
		{"a tab is not YAML", "grants:\n  - project: \"*\"\n\trole: viewer\n", 3, "cannot start any token"},
	}
	for _, c := range cases {
		_, err := Parse("policy.yaml", []byte(c.src))
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%s: err = %v, want a *policy.Error", c.name, err)
			continue
		}
		if pe.Line != c.line || !strings.Contains(pe.Error(), c.want) || !strings.HasPrefix(pe.Error(), "policy policy.yaml:") {
			t.Errorf("%s: %v, want line %d mentioning %q", c.name, pe, c.line, c.want)
		}
	}
}

func TestReloadOnChangeAndSIGHUPKeepsTheOldPolicyWhenTheFileIsBad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	write := func(src string) {
		t.Helper()
		// As editors and ConfigMaps do: write aside, then rename over.
		tmp := filepath.Join(dir, ".policy.tmp")
		if err := os.WriteFile(tmp, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write("grants:\n  - project: \"*\"\n    role: viewer\n    groups: [engineering]\n")
	cur, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	type reload struct {
		trigger string
		err     error
	}
	reloads := make(chan reload, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := cur.Watch(ctx, func(trigger string, _ *Policy, err error) { reloads <- reload{trigger, err} }); err != nil {
			t.Error(err)
		}
	}()
	defer func() { cancel(); <-done }()
	next := func() reload {
		t.Helper()
		select {
		case r := <-reloads:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("no reload reported")
			return reload{}
		}
	}
	u := identity.User{Subject: "o", Groups: []string{"oncall"}}
	time.Sleep(100 * time.Millisecond) // let the watcher start
	write("grants:\n  - project: \"*\"\n    role: operator\n    groups: [oncall]\n")
	if r := next(); r.trigger != "file" || r.err != nil {
		t.Fatalf("reload = %+v", r)
	}
	if !cur.Can(context.Background(), u, payments, identity.PermOperate) {
		t.Error("the changed policy is not in force")
	}
	write("grants:\n  - project: \"*\"\n    role: superuser\n    groups: [oncall]\n")
	if r := next(); r.err == nil || !strings.Contains(r.err.Error(), ":3:") {
		t.Fatalf("bad file reload = %+v, want an error naming line 3", r)
	}
	if !cur.Can(context.Background(), u, payments, identity.PermOperate) {
		t.Error("a bad file replaced the policy in force")
	}
	write("grants:\n  - project: \"*\"\n    role: viewer\n    groups: [oncall]\n")
	if r := next(); r.err != nil {
		t.Fatal(r.err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if r := next(); r.trigger != "SIGHUP" || r.err != nil {
		t.Fatalf("SIGHUP reload = %+v", r)
	}
	if cur.Can(context.Background(), u, payments, identity.PermOperate) {
		t.Error("the downgraded policy is not in force")
	}
}
