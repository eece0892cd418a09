package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/auth"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/views"
)

// signInRoutes are the routes of signing in and out; they are the only
// pages an anonymous person may open.
func (h *Handler) signInRoutes(e *echo.Echo) {
	e.GET("/auth/login", h.signIn)
	e.GET("/auth/callback", h.signInCallback)
	e.GET("/auth/dev", h.devSignInPage)
	e.POST("/auth/dev", h.devSignIn)
	e.POST("/auth/logout", h.signOut)
	e.GET("/auth/signed-out", h.signedOut)
}

// isPublic says whether path may be reached without signing in.
func isPublic(path string) bool {
	return isProbeOrStatic(path) || strings.HasPrefix(path, "/auth/")
}

// loadUser puts the session's person into the request context.
func (h *Handler) loadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u, ok := h.sessions.User(c.Request().Context()); ok {
			c.SetRequest(c.Request().WithContext(identity.WithUser(c.Request().Context(), u)))
		}
		return next(c)
	}
}

// requireSignIn sends anonymous people to sign in, then back to the page
// they asked for; requests that are not page loads get a 401.
func (h *Handler) requireSignIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if _, ok := identity.FromContext(req.Context()); ok || isPublic(req.URL.Path) {
			return next(c)
		}
		login := "/auth/login?next=" + url.QueryEscape(req.URL.RequestURI())
		if req.Header.Get("HX-Request") == "true" {
			c.Response().Header().Set("HX-Redirect", login)
			return &Error{Status: http.StatusUnauthorized, Msg: "Your session has ended. Sign in again."}
		}
		if req.Method != http.MethodGet && req.Method != http.MethodHead || req.URL.Path == "/events" {
			return &Error{Status: http.StatusUnauthorized, Msg: "Sign in to do this."}
		}
		return c.Redirect(http.StatusSeeOther, login)
	}
}

// safeNext keeps only same-origin paths, so signing in can never send
// anyone to another site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.Scheme != "" || u.Host != "" || u.User != nil ||
		!strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") ||
		strings.HasPrefix(u.Path, "/auth/") {
		return "/"
	}
	return next
}

func (h *Handler) signIn(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if h.oidc == nil {
		return c.Redirect(http.StatusSeeOther, "/auth/dev?next="+url.QueryEscape(next))
	}
	to, err := h.oidc.Begin(c.Response(), next)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, to)
}

func (h *Handler) signInCallback(c echo.Context) error {
	if h.oidc == nil {
		return notFound()
	}
	ctx := c.Request().Context()
	u, next, err := h.oidc.Finish(ctx, c.Response(), c.Request())
	if err != nil {
		h.recordAuth(c, identity.User{}, "signin", audit.Denied, err.Error())
		msg := "Sign-in did not complete: " + signInProblem(err) + " Please try again."
		return &Error{Status: http.StatusBadRequest, Msg: msg, Err: err}
	}
	return h.completeSignIn(c, u, safeNext(next), "oidc")
}

// signInProblem explains a refused sign-in without detail an attacker could use.
func signInProblem(err error) string {
	switch {
	case errors.Is(err, auth.ErrNoPendingSignIn):
		return "this browser had no sign-in in progress (it may have expired)."
	case errors.Is(err, auth.ErrProviderRefused):
		return "the identity provider refused it."
	default:
		return "the identity provider's answer could not be verified."
	}
}

func (h *Handler) completeSignIn(c echo.Context, u identity.User, next, method string) error {
	ctx := c.Request().Context()
	if err := h.sessions.SignIn(ctx, u); err != nil {
		return err
	}
	// The person's tokens act with the groups they have now.
	if err := h.tokens.RefreshOwner(ctx, u); err != nil {
		return err
	}
	// So do their personal notifications (who may approve what).
	if err := h.notify.RefreshOwner(ctx, u); err != nil {
		return err
	}
	h.recordAuth(c, u, "signin", audit.OK, "signed in with "+method)
	return c.Redirect(http.StatusSeeOther, next)
}

func (h *Handler) devSignInPage(c echo.Context) error {
	if !h.devMode {
		return notFound()
	}
	v := views.DevSignInView{Page: h.page(c, "Sign in", ""), Next: safeNext(c.QueryParam("next"))}
	for _, u := range auth.DevUsers {
		v.Users = append(v.Users, views.DevSignInUser{Key: u.Key, Name: u.Name, Email: u.Email, Role: u.Role})
	}
	return render(c, http.StatusOK, views.DevSignInPage(v))
}

func (h *Handler) devSignIn(c echo.Context) error {
	if !h.devMode {
		return notFound()
	}
	u, ok := auth.DevUserByKey(c.FormValue("user"))
	if !ok {
		return &Error{Status: http.StatusBadRequest, Msg: "Choose one of the people listed."}
	}
	return h.completeSignIn(c, u.User, safeNext(c.FormValue("next")), "development sign-in")
}

func (h *Handler) signOut(c echo.Context) error {
	if u, ok := identity.FromContext(c.Request().Context()); ok {
		h.recordAuth(c, u, "signout", audit.OK, "signed out")
	}
	if err := h.sessions.SignOut(c.Request().Context()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/auth/signed-out")
}

func (h *Handler) signedOut(c echo.Context) error {
	return render(c, http.StatusOK, views.SignedOutPage(h.page(c, "Signed out", "")))
}

// forbidden audits a request refused for want of a permission (one the
// services refused outright, before any action of theirs) and answers 403
// with msg.
func (h *Handler) forbidden(c echo.Context, err error, msg string) error {
	var d *identity.DeniedError
	if errors.As(err, &d) {
		h.record(c, d.User, "access.denied", audit.Target{ProjectID: d.ProjectID}, audit.Denied,
			fmt.Sprintf("%s %s refused: no %s permission", c.Request().Method, c.Request().URL.Path, d.Permission))
	}
	return &Error{Status: http.StatusForbidden, Msg: msg, Err: err}
}

// recordAuth appends an audit record about signing in or out, or a refused
// request, naming the person with their groups.
func (h *Handler) recordAuth(c echo.Context, u identity.User, action string, outcome audit.Outcome, msg string) {
	h.record(c, u, action, audit.Target{}, outcome, msg)
}

func (h *Handler) record(c echo.Context, u identity.User, action string, t audit.Target, outcome audit.Outcome, msg string) {
	ctx := c.Request().Context()
	params := map[string]any{"path": c.Request().URL.Path, "method": c.Request().Method}
	if len(u.Groups) > 0 {
		params["groups"] = u.Groups
	}
	if u.Subject == "" {
		u.Subject = "anonymous"
	}
	err := audit.Log(ctx, h.pool, audit.Event{Actor: u, Action: action, Target: t, Params: params, Outcome: outcome, Message: msg, Origin: origin(c)})
	if err != nil {
		h.log.ErrorContext(ctx, "audit "+action, "err", err, "request_id", requestID(c))
	}
}
