package web

import (
	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/assets"
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
	e.POST("/projects/:groupId/refresh", h.refreshProject)
	e.GET("/projects/:groupId", h.projectPage)
	e.GET("/projects/:groupId/clusters/:clusterName", h.clusterPage)
	e.GET("/projects/:groupId/clusters/:clusterName/snapshots/new", h.clusterPage)
	e.POST("/projects/:groupId/clusters/:clusterName/snapshots", h.takeSnapshot)
	e.POST("/projects/:groupId/clusters/:clusterName/exports", h.exportSnapshot)
	e.GET("/projects/:groupId/clusters/:clusterName/exports/new", h.newExport)
	e.GET("/projects/:groupId/clusters/:clusterName/restores/new", h.newRestore)
	e.POST("/projects/:groupId/clusters/:clusterName/restores", h.createRestore)
	e.GET("/projects/:groupId/pipelines/:pipelineName", h.pipelinePage)
	e.GET("/projects/:groupId/pipelines/:pipelineName/runs/new", h.pipelinePage)
	e.GET("/projects/:groupId/pipelines/:pipelineName/runs/:pipelineRunId", h.pipelineRunPage)
	e.POST("/projects/:groupId/pipelines/:pipelineName/runs", h.triggerIngestion)
	e.GET(views.TokensURL, h.tokensPage)
	e.POST(views.TokensURL, h.createToken)
	e.POST(views.TokensURL+"/:tokenId/revoke", h.revokeToken)
	e.GET(views.NotificationsURL, h.notificationsPage)
	e.POST(views.NotificationsURL, h.createSubscription)
	e.GET("/projects/:groupId/notifications", h.projectNotificationsPage)
	e.POST("/projects/:groupId/notifications", h.createSubscription)
	e.GET(views.NotificationsURL+"/:subscriptionId", h.deliveriesPage)
	e.POST(views.NotificationsURL+"/:subscriptionId/test", h.testSubscription)
	e.POST(views.NotificationsURL+"/:subscriptionId/delete", h.deleteSubscription)
	e.POST(views.NotificationsURL+"/:subscriptionId/deliveries/:deliveryId/resend", h.resendDelivery)
}
