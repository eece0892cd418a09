// Package views renders Snapdesk's HTML with templ. Components take view
// models shaped like the screen and never query anything; the pages and the
// fragments htmx swaps are the same components.
package views

// Page is what every full page's layout needs.
type Page struct {
	// Title is the page's own title; the layout appends "· Snapdesk".
	Title string
	// Nav names the navigation entry to mark current: home, projects, jobs or audit.
	Nav string
	// Flash is a one-time message shown above the content.
	Flash *Flash
	// User is the signed-in person, nil when anonymous.
	User *User
	// DevSignIn shows the "development sign-in" banner.
	DevSignIn bool
	// CSRFToken is sent by htmx in a header and by forms in a field.
	CSRFToken string
	// Version is the build's version, shown in the footer.
	Version string
}

// Flash is a message about the last action.
type Flash struct {
	// Kind is ok, error or info.
	Kind string
	Text string
}

// User is the person using the page.
type User struct {
	Name  string
	Email string
}

func navCurrent(p Page, name string) string {
	if p.Nav == name {
		return "page"
	}
	return "false"
}

func csrfHeaders(token string) string {
	if token == "" {
		return ""
	}
	return `{"X-CSRF-Token": "` + token + `"}`
}

func flashRole(kind string) string {
	if kind == "error" {
		return "alert"
	}
	return "status"
}

// StatusTitle is the heading of the error page for status.
func StatusTitle(status int) string {
	switch status {
	case 400:
		return "Bad request"
	case 403:
		return "Not allowed"
	case 404:
		return "Not found"
	case 409:
		return "Conflict"
	case 429:
		return "Too many requests"
	case 503:
		return "Unavailable"
	default:
		if status >= 500 {
			return "Something went wrong"
		}
		return "Error"
	}
}
