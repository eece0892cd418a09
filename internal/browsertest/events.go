package browsertest

import (
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
)

func consoleError(ev any) string {
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		return "exception: " + e.ExceptionDetails.Text
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.APITypeError {
			var s string
			for _, a := range e.Args {
				s += string(a.Value) + " " + a.Description
			}
			return "console.error: " + s
		}
	case *log.EventEntryAdded:
		if e.Entry.Level == log.LevelError {
			return "log: " + e.Entry.Text
		}
	}
	return ""
}
