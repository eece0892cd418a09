package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"time"
)

// Message is an event in words, ready for any channel. It carries no
// secrets: links point at Snapdesk pages under SNAPDESK_PUBLIC_URL, never
// at Atlas download links, and no tokens.
type Message struct {
	Type    string
	Title   string // one line: what happened, to what
	Outcome string // the result in words, with Atlas's error code when it failed
	Link    string // the Snapdesk page about it
	Fields  []Field
}

// Field is one labelled line of a message.
type Field struct{ Label, Value string }

func kindWord(kind string) string {
	switch kind {
	case "snapshot":
		return "Snapshot"
	case "export":
		return "Export"
	case "ingestion":
		return "Ingestion"
	case "restore":
		return "Restore"
	}
	if kind == "" {
		return "Job"
	}
	return strings.ToUpper(kind[:1]) + kind[1:]
}

// compose builds the message for an event. projectName may be empty (then
// the project id is shown).
func compose(e Event, publicURL, projectName string) Message {
	p := e.Payload
	target := p.ClusterName
	if p.PipelineName != "" {
		target = "pipeline " + p.PipelineName
	}
	if target == "" {
		target = e.ClusterName
	}
	what := kindWord(p.Kind)
	m := Message{Type: e.Type}
	switch e.Type {
	case JobSucceeded:
		m.Title, m.Outcome = fmt.Sprintf("%s of %s succeeded", what, target), "Succeeded"
	case JobFailed:
		m.Title = fmt.Sprintf("%s of %s failed", what, target)
		m.Outcome = "Failed"
		if p.ErrorCode != "" {
			m.Outcome += " (" + p.ErrorCode + ")"
		}
		if p.ErrorMessage != "" {
			m.Outcome += ": " + p.ErrorMessage
		}
	case JobStalled:
		m.Title = fmt.Sprintf("%s of %s has stalled", what, target)
		m.Outcome = "No progress for a while; Atlas says " + orDash(p.AtlasState)
	case ApprovalRequested:
		m.Title = fmt.Sprintf("%s of %s is waiting for your approval", what, target)
		m.Outcome = "Awaiting approval"
		if p.ApprovalExpiresAt != nil {
			m.Outcome += " until " + p.ApprovalExpiresAt.UTC().Format("2006-01-02 15:04 UTC")
		}
	case ApprovalDecided:
		by := ""
		if p.DecidedBy != nil {
			by = " by " + p.DecidedBy.Display()
		} else if p.ApprovedBy != nil {
			by = " by " + p.ApprovedBy.Display()
		}
		switch {
		case p.Decision == "approved" || (p.Decision == "" && p.ApprovedBy != nil):
			m.Title, m.Outcome = fmt.Sprintf("%s of %s was approved", what, target), "Approved"+by
		case p.Decision == "rejected":
			m.Title, m.Outcome = fmt.Sprintf("%s of %s was rejected", what, target), "Rejected"+by
			if p.DecisionReason != "" {
				m.Outcome += ": " + p.DecisionReason
			}
		case p.Decision == "withdrawn":
			m.Title, m.Outcome = fmt.Sprintf("%s of %s was withdrawn", what, target), "Withdrawn"+by
		default:
			m.Title = fmt.Sprintf("%s of %s was not approved in time", what, target)
			m.Outcome = "The approval lapsed"
		}
	case RestoreDrillFailed:
		m.Title, m.Outcome = fmt.Sprintf("Restore drill of %s failed", target), "Failed"
		if p.ErrorCode != "" {
			m.Outcome += " (" + p.ErrorCode + ")"
		}
		if p.ErrorMessage != "" {
			m.Outcome += ": " + p.ErrorMessage
		}
	case RestoreDrillOverdue:
		m.Title, m.Outcome = fmt.Sprintf("Restore drill of %s is overdue", target), orDash(p.Summary)
	case BackupHealthRed:
		m.Title, m.Outcome = fmt.Sprintf("Backup health of %s turned red", target), orDash(p.Summary)
	case TestEvent:
		m.Title, m.Outcome = "Test message from Snapdesk", "This subscription works"
	default:
		m.Title, m.Outcome = EventLabel(e.Type), p.Summary
		if target != "" {
			m.Title += ": " + target
		}
	}
	path := p.Path
	if path == "" && p.JobID != "" {
		path = "/jobs/" + p.JobID
	}
	if path != "" {
		m.Link = strings.TrimRight(publicURL, "/") + path
	}
	project := projectName
	if project == "" {
		project = e.ProjectID
	} else if e.ProjectID != "" {
		project += " (" + e.ProjectID + ")"
	}
	if project != "" {
		m.Fields = append(m.Fields, Field{"Project", project})
	}
	if target != "" {
		m.Fields = append(m.Fields, Field{"Cluster", target})
	}
	if p.RequestedBy != nil {
		m.Fields = append(m.Fields, Field{"Asked by", p.RequestedBy.Display()})
	}
	m.Fields = append(m.Fields, Field{"Outcome", m.Outcome})
	if p.Summary != "" && m.Outcome != p.Summary {
		m.Fields = append(m.Fields, Field{"Details", p.Summary})
	}
	return m
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// webhookBody is the JSON a generic webhook receives, in the Standard
// Webhooks shape: type, timestamp, data.
func webhookBody(e Event, m Message, projectName string) ([]byte, error) {
	data := struct {
		Payload
		ProjectName string `json:"projectName,omitempty"`
		URL         string `json:"url,omitempty"`
		Title       string `json:"title"`
		Outcome     string `json:"outcome"`
	}{e.Payload, projectName, m.Link, m.Title, m.Outcome}
	if data.ProjectID == "" {
		data.ProjectID = e.ProjectID
	}
	return json.Marshal(struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      any       `json:"data"`
	}{e.Type, e.OccurredAt.UTC(), data})
}

// slackEscape escapes what Slack's mrkdwn treats as markup.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackBody is an incoming-webhook message: a text fallback (notifications)
// and blocks (the message people read).
func slackBody(m Message) ([]byte, error) {
	title := "*" + slackEscape(m.Title) + "*"
	if m.Link != "" {
		title = "*<" + m.Link + "|" + slackEscape(m.Title) + ">*"
	}
	var fields []map[string]string
	for _, f := range m.Fields {
		fields = append(fields, map[string]string{"type": "mrkdwn", "text": "*" + slackEscape(f.Label) + "*\n" + slackEscape(f.Value)})
	}
	blocks := []any{map[string]any{"type": "section", "text": map[string]string{"type": "mrkdwn", "text": title}}}
	if len(fields) > 0 {
		blocks = append(blocks, map[string]any{"type": "section", "fields": fields})
	}
	if m.Link != "" {
		blocks = append(blocks, map[string]any{"type": "context", "elements": []map[string]string{{"type": "mrkdwn", "text": "<" + m.Link + "|Open in Snapdesk>"}}})
	}
	return json.Marshal(map[string]any{"text": m.Title + " — " + m.Outcome, "blocks": blocks})
}

// emailText is the plain-text part of an email.
func emailText(m Message) string {
	var b strings.Builder
	b.WriteString(m.Title + "\n\n")
	for _, f := range m.Fields {
		fmt.Fprintf(&b, "%s: %s\n", f.Label, f.Value)
	}
	if m.Link != "" {
		fmt.Fprintf(&b, "\nOpen in Snapdesk: %s\n", m.Link)
	}
	b.WriteString("\nYou receive this because of a Snapdesk notification subscription.\n")
	return b.String()
}

var emailHTMLTemplate = template.Must(template.New("email").Parse(`<!doctype html>
<html><body style="font-family: sans-serif">
<h1 style="font-size: 18px">{{.Title}}</h1>
<table>{{range .Fields}}<tr><th style="text-align: left; padding-right: 12px">{{.Label}}</th><td>{{.Value}}</td></tr>{{end}}</table>
{{if .Link}}<p><a href="{{.Link}}">Open in Snapdesk</a></p>{{end}}
<p style="color: #666; font-size: 12px">You receive this because of a Snapdesk notification subscription.</p>
</body></html>`))

// emailHTML is the HTML part of an email.
func emailHTML(m Message) (string, error) {
	var b bytes.Buffer
	if err := emailHTMLTemplate.Execute(&b, m); err != nil {
		return "", fmt.Errorf("notify: render email: %w", err)
	}
	return b.String(), nil
}
