package web

import (
	"context"
	"errors"
	"maps"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/notify"
	"github.com/snapdesk/snapdesk/internal/views"
	"github.com/snapdesk/snapdesk/internal/web/form"
)

// deliveriesShown is how many of a subscription's newest messages its page lists.
const deliveriesShown = 50

// notificationsPage is GET /settings/notifications: the person's own subscriptions.
func (h *Handler) notificationsPage(c echo.Context) error {
	return h.renderSubscriptions(c, http.StatusOK, nil, views.SubscriptionForm{}, nil)
}

// projectNotificationsPage is GET /projects/:groupId/notifications, for the project's admins.
func (h *Handler) projectNotificationsPage(c echo.Context) error {
	p, err := h.notifyProject(c)
	if err != nil {
		return err
	}
	return h.renderSubscriptions(c, http.StatusOK, p, views.SubscriptionForm{}, nil)
}

// notifyProject resolves the project of a project settings route: people
// who may not manage its notifications are refused (and audited).
func (h *Handler) notifyProject(c echo.Context) (*views.Project, error) {
	// The project scope checked the id and that the person may view it.
	sc := scopeOf(c)
	g, a := sc.ProjectID, sc.Inventory
	ctx, u := c.Request().Context(), currentUser(c)
	if err := identity.Require(ctx, h.authz, u, g, identity.PermManageNotifications); err != nil {
		return nil, h.forbidden(c, err, "Only the project's admins manage its notifications.")
	}
	v := views.Project{ID: g}
	// The name from the inventory; a project it has not synced yet shows its id.
	if p, err := a.Project(ctx); err == nil {
		v = projectView(p.Project)
	} else if !errors.Is(err, db.ErrNotFound) {
		return nil, err
	}
	return &v, nil
}

func (h *Handler) renderSubscriptions(c echo.Context, status int, project *views.Project, f views.SubscriptionForm, created *views.CreatedSubscription) error {
	ctx, u := c.Request().Context(), currentUser(c)
	v := views.SubscriptionsView{Page: h.page(c, "My notifications", "notifications"), Project: project, Form: f, Created: created,
		SealingEnabled: h.notify.SealingEnabled(), EmailEnabled: h.notify.EmailEnabled(), OwnEmail: u.Email}
	var subs []notify.Subscription
	var err error
	events := notify.PersonalEventTypes
	if project != nil {
		v.Title = "Notifications · " + project.Name
		events = notify.EventTypes
		subs, err = h.notify.ProjectSubscriptions(ctx, u, project.ID)
	} else {
		subs, err = h.notify.PersonalSubscriptions(ctx, u)
		if err == nil {
			v.AdminOf, err = h.notifyAdminOf(ctx, u)
		}
	}
	if err != nil {
		return err
	}
	for _, e := range events {
		v.Events = append(v.Events, views.EventChoice{Value: e, Label: notify.EventLabel(e)})
	}
	for _, s := range subs {
		v.Subscriptions = append(v.Subscriptions, subscriptionRow(s))
	}
	return render(c, status, views.SubscriptionsPage(v))
}

// notifyAdminOf lists the projects whose notifications u may manage.
func (h *Handler) notifyAdminOf(ctx context.Context, u identity.User) ([]views.Project, error) {
	projects, err := h.invCatalog.Projects(ctx, u)
	if err != nil {
		return nil, err
	}
	var out []views.Project
	for _, p := range projects {
		if h.authz.Can(ctx, u, p.ID, identity.PermManageNotifications) {
			out = append(out, views.Project{ID: p.ID, Name: p.Name})
		}
	}
	return out, nil
}

func subscriptionRow(s notify.Subscription) views.SubscriptionRow {
	return views.SubscriptionRow{ID: s.ID, Name: s.Name, Channel: s.Channel, Destination: s.TargetDisplay, ClusterName: s.ClusterName,
		Owner: s.Owner.Display(), Events: s.Events, CreatedAt: s.CreatedAt}
}

// createSubscription is POST /settings/notifications (personal) and POST
// /projects/:groupId/notifications (project). A webhook's signing secret
// is in this answer only.
func (h *Handler) createSubscription(c echo.Context) error {
	var project *views.Project
	scope := notify.ScopePersonal
	if c.Param("groupId") != "" {
		p, err := h.notifyProject(c)
		if err != nil {
			return err
		}
		project, scope = p, notify.ScopeProject
	}
	vals, err := c.FormParams()
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Msg: "The form could not be read.", Err: err}
	}
	// The form is shown again as typed; a value over its limit is refused
	// beside its field before the service is asked, never cut.
	f := views.SubscriptionForm{Name: vals.Get(form.FieldName), Channel: vals.Get(form.FieldChannel), URL: vals.Get(form.FieldURL),
		EmailTo: vals.Get(form.FieldEmailTo), ClusterName: vals.Get(form.FieldClusterName), Events: vals[form.FieldEvents], Errors: map[string]string{}}
	typed, errs := form.ParseSubscription(vals)
	if errs != nil {
		maps.Copy(f.Errors, errs)
		return h.renderSubscriptions(c, http.StatusUnprocessableEntity, project, f, nil)
	}
	n := notify.NewSubscription{Scope: scope, Channel: typed.Channel, Name: typed.Name, Events: typed.Events, ClusterName: typed.ClusterName,
		URL: typed.URL, EmailTo: typed.EmailTo}
	if project != nil {
		n.ProjectID = project.ID
	}
	sub, secret, err := h.notify.Create(c.Request().Context(), currentUser(c), origin(c), n)
	var fe *notify.FieldError
	switch {
	case errors.As(err, &fe):
		f.Errors[fe.Field] = fe.Msg
		return h.renderSubscriptions(c, http.StatusUnprocessableEntity, project, f, nil)
	case errors.Is(err, identity.ErrDenied):
		return h.forbidden(c, err, "Only the project's admins manage its notifications.")
	case err != nil:
		return err
	}
	return h.renderSubscriptions(c, http.StatusOK, project, views.SubscriptionForm{},
		&views.CreatedSubscription{Name: sub.Name, Channel: sub.Channel, Secret: secret})
}

// subscriptionParam is the :subscriptionId of the route, as the person may
// see it: someone else's (or a malformed id) is not found.
func (h *Handler) subscriptionParam(c echo.Context) (notify.Subscription, error) {
	sub, err := h.notify.Subscription(c.Request().Context(), currentUser(c), pathParam(c, "subscriptionId"))
	if errors.Is(err, notify.ErrNotFound) {
		return sub, notFound()
	}
	return sub, err
}

func settingsOf(s notify.Subscription) string {
	if s.Scope == notify.ScopeProject {
		return views.ProjectNotificationsURL(s.ProjectID)
	}
	return views.NotificationsURL
}

// deliveriesPage is GET /settings/notifications/:subscriptionId.
func (h *Handler) deliveriesPage(c echo.Context) error {
	sub, err := h.subscriptionParam(c)
	if err != nil {
		return err
	}
	_, ds, err := h.notify.Deliveries(c.Request().Context(), currentUser(c), sub.ID, deliveriesShown)
	if err != nil {
		return err
	}
	v := views.DeliveriesView{Page: h.page(c, "Deliveries · "+sub.Name, "notifications"), Subscription: subscriptionRow(sub), Back: settingsOf(sub)}
	for _, d := range ds {
		row := views.DeliveryRow{ID: d.ID, WebhookID: "msg_" + d.ID, Event: d.EventType, Title: d.Title, State: d.State, OccurredAt: d.OccurredAt}
		for _, a := range d.Attempts {
			row.Attempts = append(row.Attempts, views.AttemptRow{Number: a.Number, At: a.At, OK: a.OK, HTTPStatus: a.HTTPStatus, Latency: a.Latency, Answer: a.Answer})
		}
		v.Deliveries = append(v.Deliveries, row)
	}
	if f := c.QueryParam("done"); f != "" {
		msg := map[string]string{"test": "Test message queued: it appears below within seconds.", "resend": "Message queued again."}[f]
		if msg != "" {
			v.Flash = &views.Flash{Kind: "ok", Text: msg}
		}
	}
	return render(c, http.StatusOK, views.DeliveriesPage(v))
}

// testSubscription is POST /settings/notifications/:subscriptionId/test.
func (h *Handler) testSubscription(c echo.Context) error {
	sub, err := h.subscriptionParam(c)
	if err != nil {
		return err
	}
	if err := h.notify.TestSend(c.Request().Context(), currentUser(c), origin(c), sub.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, views.SubscriptionURL(sub.ID)+"?done=test")
}

// resendDelivery is POST /settings/notifications/:subscriptionId/deliveries/:deliveryId/resend.
func (h *Handler) resendDelivery(c echo.Context) error {
	sub, err := h.subscriptionParam(c)
	if err != nil {
		return err
	}
	err = h.notify.Resend(c.Request().Context(), currentUser(c), origin(c), sub.ID, pathParam(c, "deliveryId"))
	switch {
	case errors.Is(err, notify.ErrNotFound):
		return notFound()
	case errors.Is(err, notify.ErrNotDead):
		return &Error{Status: http.StatusConflict, Msg: "Only a message that failed for good can be sent again; this one is delivered or still being tried.", Err: err}
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, views.SubscriptionURL(sub.ID)+"?done=resend")
}

// deleteSubscription is POST /settings/notifications/:subscriptionId/delete.
func (h *Handler) deleteSubscription(c echo.Context) error {
	sub, err := h.subscriptionParam(c)
	if err != nil {
		return err
	}
	if _, err := h.notify.Delete(c.Request().Context(), currentUser(c), origin(c), sub.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, settingsOf(sub))
}
