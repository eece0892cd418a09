package web

import (
	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/assets"
	"github.com/snapdesk/snapdesk/internal/rules"
	"github.com/snapdesk/snapdesk/internal/views"
)

// routes lists every route of the app: the whole surface on one screen.
func (h *Handler) routes(e *echo.Echo) {
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/metrics", h.metricsEndpoint)
	e.GET(assets.Prefix+"*", echo.WrapHandler(assets.Handler()))

	e.GET("/", h.overview)
	e.GET("/jobs", h.jobsList)
	e.GET("/jobs/:id", h.jobPage)
	e.POST("/jobs/:id/approve", h.decideApproval(true))
	e.POST("/jobs/:id/reject", h.decideApproval(false))
	e.POST("/jobs/:id/cancel", h.cancelRestore)
	e.GET("/events", h.events)
	e.GET(views.SnapshotExpiryURL, h.snapshotExpiry)
	e.GET("/audit", h.auditPage)
	e.GET("/audit.csv", h.auditDownload("csv"))
	e.GET("/audit.json", h.auditDownload("json"))
	e.GET("/projects", h.projectsList)
	e.GET("/snapshots", h.snapshotsList)
	e.GET("/snapshots.csv", h.snapshotsCSV)
	e.GET("/health", h.healthPage)
	e.GET(views.TokensURL, h.tokensPage)
	e.POST(views.TokensURL, h.createToken)
	e.POST(views.TokensURL+"/:tokenId/revoke", h.revokeToken)
	e.GET(views.NotificationsURL, h.notificationsPage)
	e.POST(views.NotificationsURL, h.createSubscription)
	e.GET(views.NotificationsURL+"/:subscriptionId", h.deliveriesPage)
	e.POST(views.NotificationsURL+"/:subscriptionId/test", h.testSubscription)
	e.POST(views.NotificationsURL+"/:subscriptionId/delete", h.deleteSubscription)
	e.POST(views.NotificationsURL+"/:subscriptionId/deliveries/:deliveryId/resend", h.resendDelivery)

	// Everything about one project: the project, and the person's
	// permission on it, resolved once by projectScope (then the cluster or
	// pipeline by their own scope); handlers read them with scopeOf.
	project := e.Group("/projects/:"+rules.ParamGroupID, h.projectScope)
	project.GET("", h.projectPage)
	project.POST("/refresh", h.refreshProject)
	project.GET("/notifications", h.projectNotificationsPage)
	project.POST("/notifications", h.createSubscription)

	cluster := project.Group("/clusters/:"+rules.ParamClusterName, h.clusterScope)
	cluster.GET("", h.clusterPage)
	cluster.GET("/snapshots/new", h.clusterPage)
	cluster.POST("/snapshots", handle(h, h.takeSnapshotAction()))
	cluster.GET("/exports/new", h.newExport)
	cluster.POST("/exports", handle(h, h.exportAction()))
	cluster.GET("/restores/new", h.newRestore)
	cluster.POST("/restores", handle(h, h.restoreAction()))

	pipeline := project.Group("/pipelines/:"+rules.ParamPipelineName, h.pipelineScope)
	pipeline.GET("", h.pipelinePage)
	pipeline.GET("/runs/new", h.pipelinePage)
	pipeline.GET("/runs/:"+rules.ParamPipelineRunID, h.pipelineRunPage)
	pipeline.POST("/runs", handle(h, h.ingestionAction()))
}
