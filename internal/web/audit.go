package web

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/rules"
	"github.com/snapdesk/snapdesk/internal/views"
	"github.com/snapdesk/snapdesk/internal/web/form"
)

// auditFilter turns the query into an audit filter limited to what the
// user may see.
func (h *Handler) auditFilter(c echo.Context) (audit.Filter, form.AuditFilter, rules.Errors) {
	f, errs := form.ParseAuditFilter(c.QueryParams())
	af := audit.Filter{Actor: f.Actor, Action: f.Action, ProjectID: f.ProjectID, Outcome: audit.Outcome(f.Outcome), From: f.From, To: f.To}
	if visible := h.visibleProjects(c); visible != nil {
		af.ProjectIDs = visible
	}
	af.ProjectScopedOnly = !h.authz.Can(c.Request().Context(), currentUser(c), identity.AllProjects, identity.PermAuditDownload)
	return af, f, errs
}

func auditView(r audit.Record) views.AuditEvent {
	target := r.Target.ClusterName
	if r.Target.PipelineName != "" {
		target = r.Target.PipelineName
	}
	return views.AuditEvent{At: r.At, Actor: r.Actor.Display(), ActorEmail: r.Actor.Email, Action: r.Action, ProjectID: r.Target.ProjectID,
		Target: target, Outcome: string(r.Outcome), ErrorCode: r.ErrorCode, RequestID: r.Origin.RequestID, JobID: r.Target.JobID,
		Token: tokenOf(r)}
}

// tokenOf names the API token an audit record's action came through.
func tokenOf(r audit.Record) string {
	t, ok := r.Params["token"].(map[string]any)
	if !ok {
		return ""
	}
	name, _ := t["name"].(string)
	return name
}

func (h *Handler) auditPage(c echo.Context) error {
	af, f, errs := h.auditFilter(c)
	page := max(f.Page, 1)
	recs, more, err := audit.List(c.Request().Context(), h.pool, af, page, 50)
	if err != nil {
		return err
	}
	v := views.AuditView{Page: h.page(c, "Audit trail", "audit"), Filter: c.QueryParams(), FilterErrors: errs,
		Pager: views.Pager{Page: page, HasNext: more}, CanDownload: h.canDownloadAudit(c, af)}
	names := h.projectNames(c.Request().Context())
	for _, r := range recs {
		e := auditView(r)
		e.ProjectName = names[e.ProjectID]
		v.Events = append(v.Events, e)
	}
	v.Projects = h.projectChoices(c)
	// Say what this person may see, so an empty page is not read as an
	// empty trail.
	v.AllRecords = !af.ProjectScopedOnly && af.ProjectIDs == nil
	v.EveryProject = af.ProjectIDs == nil
	for _, id := range af.ProjectIDs {
		v.VisibleProjects = append(v.VisibleProjects, h.projectOf(c, id))
	}
	if len(v.Events) == 0 && !v.AllRecords {
		if v.OwnRefusals, err = audit.RefusalsOf(c.Request().Context(), h.pool, currentUser(c).Subject); err != nil {
			return err
		}
	}
	return render(c, http.StatusOK, views.AuditPage(v))
}

// canDownloadAudit: admins of the filtered project (or of every project).
func (h *Handler) canDownloadAudit(c echo.Context, af audit.Filter) bool {
	project := af.ProjectID
	if project == "" {
		project = identity.AllProjects
	}
	return h.authz.Can(c.Request().Context(), currentUser(c), project, identity.PermAuditDownload)
}

// auditDownload streams the filtered trail as CSV or JSON lines, row by
// row, never holding it in memory.
func (h *Handler) auditDownload(format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		af, _, errs := h.auditFilter(c)
		if errs != nil {
			return &Error{Status: http.StatusBadRequest, Msg: "The filter is not valid; correct it on the audit page and download again."}
		}
		if !h.canDownloadAudit(c, af) {
			return &Error{Status: http.StatusForbidden, Msg: "Only administrators of the project may download its audit trail."}
		}
		w := c.Response()
		name := "snapdesk-audit-" + time.Now().UTC().Format("20060102T150405Z")
		if format == "csv" {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
			w.WriteHeader(http.StatusOK)
			cw := csv.NewWriter(w)
			_ = cw.Write([]string{"id", "at", "actor_subject", "actor_email", "actor_name", "action", "project_id", "cluster", "pipeline", "snapshot_id", "job_id", "outcome", "error_code", "message", "request_id", "remote_addr", "hash"})
			return audit.Stream(c.Request().Context(), h.pool, af, func(r audit.Record) error {
				cw.Write(csvSafe([]string{itoa(r.ID), r.At.Format(time.RFC3339Nano), r.Actor.Subject, r.Actor.Email, r.Actor.Name, r.Action, //nolint:errcheck
					r.Target.ProjectID, r.Target.ClusterName, r.Target.PipelineName, r.Target.SnapshotID, r.Target.JobID,
					string(r.Outcome), r.ErrorCode, r.Message, r.Origin.RequestID, r.Origin.RemoteAddr, hexOf(r.Hash)}))
				cw.Flush()
				return cw.Error()
			})
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.jsonl"`)
		w.WriteHeader(http.StatusOK)
		enc := json.NewEncoder(w)
		return audit.Stream(c.Request().Context(), h.pool, af, func(r audit.Record) error {
			return enc.Encode(map[string]any{"id": r.ID, "at": r.At, "actor": map[string]string{"subject": r.Actor.Subject, "email": r.Actor.Email, "name": r.Actor.Name},
				"action": r.Action, "target": r.Target, "params": r.Params, "outcome": r.Outcome, "errorCode": r.ErrorCode, "message": r.Message,
				"requestId": r.Origin.RequestID, "remoteAddr": r.Origin.RemoteAddr, "userAgent": r.Origin.UserAgent, "hash": hexOf(r.Hash), "prevHash": hexOf(r.PrevHash)})
		})
	}
}

// csvSafe keeps a spreadsheet from running any cell of a row as a formula
// (OWASP "CSV injection"): names and emails come from the identity
// provider, messages from Atlas and people, so every column is covered. A
// cell starting with = + - @, a tab or a carriage return gets a leading
// apostrophe, which spreadsheets show as text.
func csvSafe(row []string) []string {
	for i, s := range row {
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			row[i] = "'" + s
		}
	}
	return row
}
