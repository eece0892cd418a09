// Package policy decides who may do what in which Atlas project. It reads a
// YAML file that maps identity-provider groups (and individual emails) to
// roles per project, and implements identity.Authorizer over it.
//
//	grants:
//	  - project: "*"                        # every project
//	    role: viewer
//	    groups: [engineering]
//	  - project: 65a1b2c3d4e5f60718293a01
//	    role: operator
//	    groups: [platform]
//	    emails: [alice@example.com]
//	approvals:
//	  - project: 65a1b2c3d4e5f60718293a01
//	    exports: true                       # a second person approves each export
//	    expire_after: 24h                   # unapproved exports lapse after this
//	restores:                               # see RestoreRule
//	  - project: "*"
//	    approval: [automated, pointInTime]
//	drills:                                 # see Drill
//	  - project: 65a1b2c3d4e5f60718293a01
//	    cluster: Cluster0
//	    target: payments-scratch
//	    every: 168h
//
// Deny by default: a person no grant names sees nothing.
package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/snapdesk/snapdesk/internal/identity"
)

// Role is a set of permissions on a project; each role includes the ones below it.
type Role int

// The roles, weakest first.
const (
	NoRole Role = iota
	Viewer
	Operator
	Admin
)

var roleNames = map[string]Role{"viewer": Viewer, "operator": Operator, "admin": Admin}

func (r Role) String() string {
	for name, role := range roleNames {
		if role == r {
			return name
		}
	}
	return "none"
}

// grants says whether the role includes the permission.
func (r Role) grants(p identity.Permission) bool {
	switch p {
	case identity.PermView:
		return r >= Viewer
	case identity.PermOperate, identity.PermApprove:
		return r >= Operator
	case identity.PermAuditDownload, identity.PermManageNotifications:
		return r >= Admin
	}
	return false
}

// Grant gives a role on a project to groups and emails.
type Grant struct {
	Project string // an Atlas project id or "*"
	Role    Role
	Groups  []string
	Emails  []string // compared case-insensitively
}

// Approval asks for a second person's approval of a project's exports.
type Approval struct {
	Project     string // an Atlas project id or "*"
	Exports     bool
	ExpireAfter time.Duration
}

// DefaultApprovalExpiry is how long an export waits for approval when the
// policy does not say.
const DefaultApprovalExpiry = 24 * time.Hour

// Policy is a parsed, validated policy file.
type Policy struct {
	Grants    []Grant
	Approvals []Approval
	Restores  []RestoreRule
	Drills    []Drill
	// Digest identifies the file's content, for the reload audit record.
	Digest string
}

// Error is a problem in the policy file, with the line it is on.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("policy %s:%d: %s", e.File, e.Line, e.Msg)
}

var projectID = regexp.MustCompile(`^([a-f0-9]{24}|\*)$`)

type fileYAML struct {
	Grants    []grantYAML    `yaml:"grants"`
	Approvals []approvalYAML `yaml:"approvals"`
	Restores  []restoreYAML  `yaml:"restores"`
	Drills    []drillYAML    `yaml:"drills"`
}

type grantYAML struct {
	Project string   `yaml:"project"`
	Role    string   `yaml:"role"`
	Groups  []string `yaml:"groups"`
	Emails  []string `yaml:"emails"`
}

type approvalYAML struct {
	Project     string `yaml:"project"`
	Exports     bool   `yaml:"exports"`
	ExpireAfter string `yaml:"expire_after"`
}

// Parse reads a policy from src; file names it in errors.
func Parse(file string, src []byte) (*Policy, error) {
	var doc fileYAML
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	// A second pass over the node tree gives each entry its line.
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, yamlError(file, err)
	}
	grantItems, approvalItems := items(&root, "grants"), items(&root, "approvals")

	p := &Policy{Digest: fmt.Sprintf("%x", sha256.Sum256(src))}
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	for i, g := range doc.Grants {
		item := grantItems[i]
		line := item.Line
		role, ok := roleNames[g.Role]
		if !ok {
			fail(lineOf(item, "role"), "role %q is not one of viewer, operator, admin", g.Role)
		}
		if !projectID.MatchString(g.Project) {
			fail(lineOf(item, "project"), "project %q is not an Atlas project id (24 hex digits) or \"*\"", g.Project)
		}
		if len(g.Groups) == 0 && len(g.Emails) == 0 {
			fail(line, "grant names no groups and no emails")
		}
		for _, grp := range g.Groups {
			if strings.TrimSpace(grp) == "" {
				fail(lineOf(item, "groups"), "empty group name")
			}
		}
		emails := make([]string, 0, len(g.Emails))
		for _, e := range g.Emails {
			if !strings.Contains(e, "@") || strings.ContainsAny(e, " \t") {
				fail(lineOf(item, "emails"), "email %q is not an email address", e)
			}
			emails = append(emails, strings.ToLower(e))
		}
		p.Grants = append(p.Grants, Grant{Project: g.Project, Role: role, Groups: g.Groups, Emails: emails})
	}
	for i, a := range doc.Approvals {
		item := approvalItems[i]
		if !projectID.MatchString(a.Project) {
			fail(lineOf(item, "project"), "project %q is not an Atlas project id (24 hex digits) or \"*\"", a.Project)
		}
		expire := DefaultApprovalExpiry
		if a.ExpireAfter != "" {
			d, err := time.ParseDuration(a.ExpireAfter)
			if err != nil || d < time.Minute || d > 30*24*time.Hour {
				fail(lineOf(item, "expire_after"), "expire_after %q is not a duration between 1m and 720h", a.ExpireAfter)
			}
			expire = d
		}
		p.Approvals = append(p.Approvals, Approval{Project: a.Project, Exports: a.Exports, ExpireAfter: expire})
	}
	p.Restores = parseRestores(doc.Restores, items(&root, "restores"), fail)
	p.Drills = parseDrills(doc.Drills, items(&root, "drills"), fail)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// ParseFile reads and parses the policy file at path.
func ParseFile(path string) (*Policy, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return Parse(path, src)
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// yamlError turns yaml.v3's "yaml: line 3: ..." messages into Errors.
func yamlError(file string, err error) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var errs []error
	for _, m := range msgs {
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			n, _ := strconv.Atoi(sm[1])
			errs = append(errs, &Error{File: file, Line: n, Msg: sm[2]})
		} else {
			errs = append(errs, &Error{File: file, Line: 1, Msg: strings.TrimPrefix(m, "yaml: ")})
		}
	}
	return errors.Join(errs...)
}

// items returns the items of the top-level sequence key.
func items(root *yaml.Node, key string) []*yaml.Node {
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1].Content
		}
	}
	return nil
}

// lineOf is the line of key in the mapping item, else the item's line.
func lineOf(item *yaml.Node, key string) int {
	for i := 0; i+1 < len(item.Content); i += 2 {
		if item.Content[i].Value == key {
			return item.Content[i].Line
		}
	}
	return item.Line
}

// RoleOf is u's strongest role on the project: its own grants and the "*" ones.
func (p *Policy) RoleOf(u identity.User, project string) Role {
	best := NoRole
	for _, g := range p.Grants {
		if (g.Project == project || g.Project == identity.AllProjects) && g.Role > best && g.matches(u) {
			best = g.Role
		}
	}
	return best
}

func (g Grant) matches(u identity.User) bool {
	if u.Subject == "" {
		return false
	}
	if u.Email != "" && slices.Contains(g.Emails, strings.ToLower(u.Email)) {
		return true
	}
	for _, grp := range u.Groups {
		if slices.Contains(g.Groups, grp) {
			return true
		}
	}
	return false
}

// isAdminAnywhere: admins see every project (issue 6: "admin ... sees every project").
func (p *Policy) isAdminAnywhere(u identity.User) bool {
	for _, g := range p.Grants {
		if g.Role == Admin && g.matches(u) {
			return true
		}
	}
	return false
}

// Can implements identity.Authorizer.
func (p *Policy) Can(_ context.Context, u identity.User, project string, perm identity.Permission) bool {
	if u.Token != nil && !u.Token.Allows(project, perm) {
		return false // a token narrows its owner's rights, never widens them
	}
	if p.RoleOf(u, project).grants(perm) {
		return true
	}
	return perm == identity.PermView && p.isAdminAnywhere(u)
}

// VisibleProjects implements identity.Authorizer.
func (p *Policy) VisibleProjects(ctx context.Context, u identity.User) ([]string, bool) {
	if u.Token != nil {
		var ids []string
		for _, id := range u.Token.Projects {
			if p.Can(ctx, u, id, identity.PermView) {
				ids = append(ids, id)
			}
		}
		return ids, false
	}
	if p.isAdminAnywhere(u) {
		return nil, true
	}
	var ids []string
	for _, g := range p.Grants {
		if g.Role >= Viewer && g.matches(u) {
			if g.Project == identity.AllProjects {
				return nil, true
			}
			if !slices.Contains(ids, g.Project) {
				ids = append(ids, g.Project)
			}
		}
	}
	return ids, false
}

// ExportApproval says whether exports of the project need a second person's
// approval, and how long a request waits for one.
func (p *Policy) ExportApproval(project string) (required bool, expireAfter time.Duration) {
	for _, a := range p.Approvals {
		if a.Exports && (a.Project == project || a.Project == identity.AllProjects) {
			if !required || a.ExpireAfter < expireAfter {
				expireAfter = a.ExpireAfter
			}
			required = true
		}
	}
	return required, expireAfter
}
