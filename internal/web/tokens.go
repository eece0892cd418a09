package web

import (
	"errors"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/tokens"
	"github.com/snapdesk/snapdesk/internal/views"
	"github.com/snapdesk/snapdesk/internal/web/form"
)

// tokensPage is GET /settings/tokens: the person's API tokens and the form
// to create one.
func (h *Handler) tokensPage(c echo.Context) error {
	return h.renderTokens(c, http.StatusOK, views.TokenForm{Role: string(tokens.Viewer), ExpiresInDays: "30"}, nil)
}

func (h *Handler) renderTokens(c echo.Context, status int, f views.TokenForm, created *views.CreatedToken) error {
	ctx, u := c.Request().Context(), currentUser(c)
	all := h.tokens.MayManageAll(ctx, u)
	list, err := h.tokens.List(ctx, u, all)
	if err != nil {
		return err
	}
	v := views.TokensView{Page: h.page(c, "API tokens", "tokens"), Form: f, Created: created, MayCreateService: all,
		APIBase: "/api/v1"}
	for _, r := range tokens.Roles {
		v.Roles = append(v.Roles, string(r))
	}
	now := time.Now()
	for _, t := range list {
		row := views.APIToken{ID: t.ID, Kind: string(t.Kind), Name: t.Name, Owner: t.Owner.Display(), Team: t.Team, Role: string(t.Role),
			CreatedBy: t.CreatedBy, Projects: t.Projects, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt,
			RevokedAt: t.RevokedAt, Expired: !now.Before(t.ExpiresAt), MayRevoke: all || t.Owner.Subject == u.Subject}
		v.Tokens = append(v.Tokens, row)
	}
	projects, err := h.invCatalog.Projects(ctx, u)
	if err != nil {
		return err
	}
	for _, p := range projects {
		v.Choices = append(v.Choices, views.TokenProject{ID: p.ID, Name: p.Name})
	}
	return render(c, status, views.TokensPage(v))
}

// createToken is POST /settings/tokens. The answer shows the new secret
// once; it is never logged, stored or shown again.
func (h *Handler) createToken(c echo.Context) error {
	vals, err := c.FormParams()
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Msg: "The form could not be read.", Err: err}
	}
	// The form is shown again as typed; a name or team over its limit is
	// refused beside its field before the service is asked, never cut.
	f := views.TokenForm{Name: vals.Get(form.FieldName), Team: vals.Get(form.FieldTeam), Role: vals.Get(form.FieldRole), ExpiresInDays: vals.Get("expiresInDays"),
		Projects: vals[form.FieldProjects], Errors: map[string]string{}}
	typed, errs := form.ParseToken(vals)
	maps.Copy(f.Errors, errs)
	days, err := strconv.Atoi(strings.TrimSpace(f.ExpiresInDays))
	if err != nil || days < 1 || days > 90 {
		f.Errors["expiresInDays"] = "a token lives 1 to 90 days"
	}
	if len(f.Errors) > 0 {
		return h.renderTokens(c, http.StatusUnprocessableEntity, f, nil)
	}
	t, secret, err := h.tokens.Create(c.Request().Context(), currentUser(c), origin(c), tokens.CreateRequest{
		Name: typed.Name, Team: typed.Team, Projects: typed.Projects, Role: tokens.Role(typed.Role), Lifetime: time.Duration(days) * 24 * time.Hour})
	var ve *tokens.ValidationError
	switch {
	case errors.As(err, &ve):
		f.Errors[ve.Field] = ve.Msg
		return h.renderTokens(c, http.StatusUnprocessableEntity, f, nil)
	case errors.Is(err, identity.ErrDenied):
		f.Refusal = "Your role does not allow this token: a token's role can never be above your own in each project it reaches, and only admins create service tokens."
		return h.renderTokens(c, http.StatusForbidden, f, nil)
	case err != nil:
		return err
	}
	return h.renderTokens(c, http.StatusOK, views.TokenForm{Role: string(tokens.Viewer), ExpiresInDays: "30"}, &views.CreatedToken{Name: t.Name, Secret: secret})
}

// revokeToken is POST /settings/tokens/:tokenId/revoke.
func (h *Handler) revokeToken(c echo.Context) error {
	_, err := h.tokens.Revoke(c.Request().Context(), currentUser(c), origin(c), c.Param("tokenId"))
	if errors.Is(err, identity.ErrDenied) {
		return &Error{Status: http.StatusForbidden, Msg: "Only the token's owner, or an admin of every project it reaches, may revoke it.", Err: err}
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, views.TokensURL)
}
