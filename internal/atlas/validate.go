package atlas

import (
	"fmt"
	"regexp"
)

// ValidationError is a request refused before it was sent: a path
// parameter or body field breaks the spec's rules.
type ValidationError struct {
	// Field is the parameter or body field, e.g. "clusterName" or "retentionInDays".
	Field string
	Msg   string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("atlas: invalid %s: %s", e.Field, e.Msg)
}

// The spec's patterns for path parameters.
var (
	idPattern           = regexp.MustCompile(`^([a-f0-9]{24})$`)
	clusterNamePattern  = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*$`)
	pipelineNamePattern = regexp.MustCompile(`^[^/\\ "$]{1,64}$`)
)

// ValidID reports whether s is a 24-hex Atlas id (groupId, snapshotId, ...).
func ValidID(s string) bool { return idPattern.MatchString(s) }

// ValidClusterName reports whether s matches the spec's clusterName pattern.
func ValidClusterName(s string) bool { return len(s) <= 64 && clusterNamePattern.MatchString(s) }

// ValidPipelineName reports whether s matches the spec's pipelineName pattern.
func ValidPipelineName(s string) bool { return pipelineNamePattern.MatchString(s) }

func checkID(field, v string) error {
	if !ValidID(v) {
		return &ValidationError{Field: field, Msg: "must be 24 lowercase hexadecimal characters"}
	}
	return nil
}

func checkCluster(v string) error {
	if !ValidClusterName(v) {
		return &ValidationError{Field: "clusterName", Msg: "must start with a letter or digit and contain only letters, digits and hyphens (at most 64)"}
	}
	return nil
}

func checkPipeline(v string) error {
	if !ValidPipelineName(v) {
		return &ValidationError{Field: "pipelineName", Msg: `must be 1 to 64 characters without /, \, space, " or $`}
	}
	return nil
}

// first returns the first non-nil error.
func first(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
