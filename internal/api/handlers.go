package api

import (
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// Document is the API's OpenAPI 3.0 description, served at /api/v1/openapi.yaml.
//
//go:embed openapi.yaml
var Document []byte

const perPage = 50

// pathProject is the groupId path parameter, checked against the spec's pattern.
func pathProject(c echo.Context) (string, error) {
	g := c.Param("groupId")
	if !atlas.ValidID(g) {
		return "", notFound()
	}
	return g, nil
}

func pathCluster(c echo.Context) (string, error) {
	name, err := url.PathUnescape(c.Param("clusterName"))
	if err != nil || !atlas.ValidClusterName(name) {
		return "", notFound()
	}
	return name, nil
}

func pageOf(c echo.Context) (int, error) {
	s := c.QueryParam("page")
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 10000 {
		return 0, invalid("page", "a page number from 1 to 10000")
	}
	return n, nil
}

type list[T any] struct {
	Items   []T  `json:"items"`
	Page    int  `json:"page,omitempty"`
	HasMore bool `json:"hasMore"`
}

type project struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	ClusterCount int64  `json:"clusterCount"`
}

func (a *API) listProjects(c echo.Context) error {
	ps, err := a.catalog.Projects(c.Request().Context(), user(c))
	if err != nil {
		return err
	}
	out := list[project]{Items: []project{}}
	for _, p := range ps {
		out.Items = append(out.Items, project{ID: p.ID, Name: p.Name, ClusterCount: p.ClusterCount})
	}
	return c.JSON(http.StatusOK, out)
}

type cluster struct {
	Name           string `json:"name"`
	ClusterType    string `json:"clusterType"`
	StateName      string `json:"stateName"`
	BackupEnabled  bool   `json:"backupEnabled"`
	MongoDBVersion string `json:"mongoDBVersion,omitempty"`
}

func (a *API) listClusters(c echo.Context) error {
	g, err := pathProject(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	client, err := a.catalog.Project(ctx, user(c), g)
	if err != nil {
		return err
	}
	out := list[cluster]{Items: []cluster{}}
	for cl, err := range client.Clusters.All(ctx, g) {
		if err != nil {
			return err
		}
		out.Items = append(out.Items, cluster{Name: cl.Name, ClusterType: string(cl.ClusterType), StateName: string(cl.StateName),
			BackupEnabled: cl.BackupEnabled, MongoDBVersion: cl.MongoDBVersion})
	}
	return c.JSON(http.StatusOK, out)
}

type exportBucket struct {
	ID            string `json:"id"`
	BucketName    string `json:"bucketName"`
	CloudProvider string `json:"cloudProvider"`
}

func (a *API) listExportBuckets(c echo.Context) error {
	g, err := pathProject(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	client, err := a.catalog.Project(ctx, user(c), g)
	if err != nil {
		return err
	}
	out := list[exportBucket]{Items: []exportBucket{}}
	for b, err := range client.ExportBuckets.All(ctx, g) {
		if err != nil {
			return err
		}
		out.Items = append(out.Items, exportBucket{ID: b.ID, BucketName: b.BucketName, CloudProvider: string(b.CloudProvider)})
	}
	return c.JSON(http.StatusOK, out)
}

type snapshot struct {
	ID               string `json:"id"`
	ProjectID        string `json:"projectId"`
	ClusterName      string `json:"clusterName"`
	Status           string `json:"status"`
	SnapshotType     string `json:"snapshotType"`
	Description      string `json:"description,omitempty"`
	CreatedAt        string `json:"createdAt,omitempty"`
	ExpiresAt        string `json:"expiresAt,omitempty"`
	StorageSizeBytes int64  `json:"storageSizeBytes"`
	JobID            string `json:"jobId,omitempty"`
}

// marker is what TakeSnapshot appends to a description: the job and the person.
var marker = regexp.MustCompile(`\s*\[` + regexp.QuoteMeta(jobs.MarkerJob) + `=([0-9a-f-]{36})[^\]]*\]$`)

// decodeBody reads a JSON body strictly: unknown fields are refused, as
// the document says (additionalProperties: false).
func decodeBody(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return badRequest("The request needs a JSON body.")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return invalid(te.Field, "must be a "+te.Type.String())
		}
		return badRequest("The body is not the JSON this operation takes: " + err.Error())
	}
	if dec.More() {
		return badRequest("The body holds more than one JSON value.")
	}
	return nil
}

// action runs a POST under its Idempotency-Key: the body is read, the
// caller's key checked, and do's answer (or problem) kept for repeats.
func (a *API) action(c echo.Context, do func(body []byte, key string) (int, any, error)) error {
	key := c.Request().Header.Get("Idempotency-Key")
	if key == "" || len(key) > 255 {
		p := problem(http.StatusBadRequest, "idempotency-key-required", "Idempotency-Key required",
			"Every POST carries an Idempotency-Key header (1 to 255 characters, e.g. a UUID) so a retry never acts twice.")
		return p
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return badRequest("The body could not be read.")
	}
	u := user(c)
	hash := requestHash(c.Request().Method, c.Request().URL.Path, body)
	ans, replayed, err := a.idempotent(c.Request().Context(), u.Subject, key, hash, func() answer {
		status, v, err := do(body, serviceKey(u.Subject, key))
		if err != nil {
			p := problemOf(err)
			if p.Status >= 500 {
				a.log.ErrorContext(c.Request().Context(), "api action failed", "err", err, "path", c.Request().URL.Path, "request_id", requestID(c))
			}
			p.Instance = c.Request().URL.Path
			return answer{Status: p.Status, Body: encode(p)}
		}
		return answer{Status: status, Body: encode(v)}
	})
	if err != nil {
		return err
	}
	if replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	ctype := echo.MIMEApplicationJSON
	if ans.Status >= 400 {
		ctype = "application/problem+json"
	}
	if ans.Status == http.StatusAccepted {
		var j struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(ans.Body, &j) == nil && j.ID != "" {
			c.Response().Header().Set("Location", Prefix+"/jobs/"+j.ID)
		}
	}
	return c.Blob(ans.Status, ctype, ans.Body)
}

type takeSnapshotBody struct {
	Description     string `json:"description"`
	RetentionInDays *int   `json:"retentionInDays"`
}

func (a *API) takeSnapshot(c echo.Context) error {
	g, err := pathProject(c)
	if err != nil {
		return err
	}
	name, err := pathCluster(c)
	if err != nil {
		return err
	}
	return a.action(c, func(body []byte, key string) (int, any, error) {
		var b takeSnapshotBody
		if err := decodeBody(body, &b); err != nil {
			return 0, nil, err
		}
		if b.RetentionInDays == nil {
			return 0, nil, invalid("retentionInDays", "how many days to keep the snapshot: 1 to 3650")
		}
		j, err := a.jobs.TakeSnapshot(c.Request().Context(), user(c), origin(c), jobs.TakeSnapshotRequest{ProjectID: g, ClusterName: name,
			Description: b.Description, RetentionInDays: *b.RetentionInDays, IdempotencyKey: key})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, a.jobView(j), nil
	})
}

type exportBody struct {
	SnapshotID     string            `json:"snapshotId"`
	ExportBucketID string            `json:"exportBucketId"`
	CustomData     map[string]string `json:"customData"`
	ExportAgain    bool              `json:"exportAgain"`
}

func (a *API) exportSnapshot(c echo.Context) error {
	g, err := pathProject(c)
	if err != nil {
		return err
	}
	name, err := pathCluster(c)
	if err != nil {
		return err
	}
	return a.action(c, func(body []byte, key string) (int, any, error) {
		var b exportBody
		if err := decodeBody(body, &b); err != nil {
			return 0, nil, err
		}
		var labels []atlas.Label
		for k, v := range b.CustomData {
			labels = append(labels, atlas.Label{Key: k, Value: v})
		}
		slices.SortFunc(labels, func(x, y atlas.Label) int { return strings.Compare(x.Key, y.Key) })
		j, err := a.jobs.ExportSnapshot(c.Request().Context(), user(c), origin(c), jobs.ExportRequest{ProjectID: g, ClusterName: name,
			SnapshotID: b.SnapshotID, ExportBucketID: b.ExportBucketID, CustomData: labels, IdempotencyKey: key, Again: b.ExportAgain})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, a.jobView(j), nil
	})
}

type ingestionBody struct {
	SnapshotID             string `json:"snapshotId"`
	DatasetRetentionPolicy *struct {
		Units string `json:"units"`
		Value int    `json:"value"`
	} `json:"datasetRetentionPolicy"`
}

func (a *API) triggerIngestion(c echo.Context) error {
	g, err := pathProject(c)
	if err != nil {
		return err
	}
	pipeline, err := url.PathUnescape(c.Param("pipelineName"))
	if err != nil || !atlas.ValidPipelineName(pipeline) {
		return notFound()
	}
	return a.action(c, func(body []byte, key string) (int, any, error) {
		var b ingestionBody
		if err := decodeBody(body, &b); err != nil {
			return 0, nil, err
		}
		r := jobs.IngestionRequest{ProjectID: g, PipelineName: pipeline, SnapshotID: b.SnapshotID, IdempotencyKey: key}
		if p := b.DatasetRetentionPolicy; p != nil {
			r.RetentionUnit, r.RetentionValue = atlas.RetentionUnit(p.Units), p.Value
			if r.RetentionUnit == "" {
				return 0, nil, invalid("datasetRetentionPolicy.units", "DAYS, WEEKS or MONTHS")
			}
		}
		j, err := a.jobs.TriggerIngestion(c.Request().Context(), user(c), origin(c), r)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, a.jobView(j), nil
	})
}

type restoreBody struct {
	DeliveryType      string     `json:"deliveryType"`
	SnapshotID        string     `json:"snapshotId"`
	TargetProjectID   string     `json:"targetProjectId"`
	TargetClusterName string     `json:"targetClusterName"`
	PointInTime       *time.Time `json:"pointInTime"`
	ConfirmName       string     `json:"confirmName"`
}

// restore asks for a restore of one of the cluster's snapshots (or of a
// point in time), with the page's rules: a typed confirmation for one that
// replaces a cluster's data, approval where the policy asks for it.
func (a *API) restore(c echo.Context) error {
	g, err := pathProject(c)
	if err != nil {
		return err
	}
	name, err := pathCluster(c)
	if err != nil {
		return err
	}
	return a.action(c, func(body []byte, key string) (int, any, error) {
		var b restoreBody
		if err := decodeBody(body, &b); err != nil {
			return 0, nil, err
		}
		r := jobs.RestoreRequest{ProjectID: g, ClusterName: name, SnapshotID: b.SnapshotID, DeliveryType: atlas.DeliveryType(b.DeliveryType),
			TargetProjectID: b.TargetProjectID, TargetClusterName: b.TargetClusterName, ConfirmName: b.ConfirmName, IdempotencyKey: key}
		if b.PointInTime != nil {
			r.PointInTime = *b.PointInTime
		}
		j, err := a.jobs.Restore(c.Request().Context(), user(c), origin(c), r)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, a.jobView(j), nil
	})
}

type rejectBody struct {
	Reason string `json:"reason"`
}

// decide approves, rejects or cancels (withdraws) a job that waits for approval.
func (a *API) decide(what string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathJob(c)
		if err != nil {
			return err
		}
		return a.action(c, func(body []byte, _ string) (int, any, error) {
			ctx, u := c.Request().Context(), user(c)
			var j jobs.Job
			var err error
			switch what {
			case "approve":
				j, err = a.jobs.Approve(ctx, u, origin(c), id)
			case "reject":
				var b rejectBody
				if err := decodeBody(body, &b); err != nil {
					return 0, nil, err
				}
				if msg := rules.CheckLen("the reason", b.Reason, rules.MaxReasonLen); msg != "" {
					return 0, nil, invalid("reason", msg)
				}
				j, err = a.jobs.Reject(ctx, u, origin(c), id, b.Reason)
			case "cancel":
				// Only the requester withdraws; for anyone else it would be a
				// rejection. A restore under way is cancelled in Atlas, by its
				// requester or an operator of its project.
				if j, err = a.jobs.ViewJob(ctx, u, id); err != nil {
					return 0, nil, err
				}
				if j.State == jobs.StateAwaitingApproval && j.RequestedBy.Subject != u.Subject {
					return 0, nil, problem(http.StatusForbidden, "not-requester", "Only the requester may cancel",
						"Only the person who asked for this job may cancel it; an approver rejects it instead.")
				}
				switch {
				case j.State == jobs.StateAwaitingApproval:
					j, err = a.jobs.Withdraw(ctx, u, origin(c), id)
				case j.Kind == jobs.KindRestore:
					j, err = a.jobs.CancelRestore(ctx, u, origin(c), id)
				default:
					return 0, nil, problem(http.StatusConflict, "not-cancellable", "This job cannot be cancelled",
						"Only a restore under way, or a job waiting for approval, can be cancelled: Atlas offers no way to stop a snapshot, export or ingestion once asked.")
				}
			}
			if err != nil {
				return 0, nil, err
			}
			return http.StatusOK, a.jobView(j), nil
		})
	}
}

// errDeniedAsNotFound keeps a job of a project the token may not see from
// being told apart from a job that does not exist.
func errDeniedAsNotFound(err error) error {
	if errors.Is(err, identity.ErrDenied) {
		return notFound()
	}
	return err
}
