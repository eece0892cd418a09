package browsertest

import (
	"strings"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
)

// consoleError describes ev when it is an error the page reported: an
// uncaught exception, console.error, or an error in the browser's log
// (failed loads, CSP violations).
func consoleError(ev any) string {
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		s := e.ExceptionDetails.Text
		if x := e.ExceptionDetails.Exception; x != nil && x.Description != "" {
			s += " " + x.Description
		}
		return "exception: " + s
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError {
			var s []string
			for _, a := range e.Args {
				v := strings.TrimSpace(string(a.Value) + " " + a.Description)
				s = append(s, v)
			}
			return "console.error: " + strings.Join(s, " ")
		}
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError {
			return "log: " + e.Entry.Text
		}
	}
	return ""
}
