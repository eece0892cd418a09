package rules

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"unicode/utf8"
)

// The Atlas Admin API v2 path parameter patterns (see
// ../shared/atlas/FACTS.md §1 and §7). A path parameter that does not match
// names nothing, so handlers answer 404 without calling anything.
var (
	atlasIDPattern      = regexp.MustCompile(`^([a-f0-9]{24})$`)
	clusterNamePattern  = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*$`)
	pipelineNamePattern = regexp.MustCompile(`^[^/\\ "$]{1,64}$`)
	uuidPattern         = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// MaxClusterNameLen is the longest cluster name accepted. The spec's
// pattern has no bound; Atlas cluster names are at most 64 characters.
const MaxClusterNameLen = 64

// ValidAtlasID reports whether s is a 24-hex Atlas id (`^([a-f0-9]{24})$`):
// group, snapshot, export job, export bucket and pipeline run ids.
func ValidAtlasID(s string) bool { return atlasIDPattern.MatchString(s) }

// ValidGroupID reports whether s is an Atlas project (group) id.
func ValidGroupID(s string) bool { return ValidAtlasID(s) }

// ValidSnapshotID reports whether s is an Atlas snapshot id.
func ValidSnapshotID(s string) bool { return ValidAtlasID(s) }

// ValidExportBucketID reports whether s is an Atlas export bucket id.
func ValidExportBucketID(s string) bool { return ValidAtlasID(s) }

// ValidPipelineRunID reports whether s is an Atlas pipeline run id.
func ValidPipelineRunID(s string) bool { return ValidAtlasID(s) }

// ValidClusterName reports whether s matches the spec's clusterName pattern
// `^[a-zA-Z0-9][a-zA-Z0-9-]*$` and is at most MaxClusterNameLen long.
func ValidClusterName(s string) bool {
	return len(s) <= MaxClusterNameLen && clusterNamePattern.MatchString(s)
}

// ValidPipelineName reports whether s matches the legacy spec's
// pipelineName pattern `^[^/\\ "$]{1,64}$` and is valid UTF-8.
func ValidPipelineName(s string) bool {
	return utf8.ValidString(s) && pipelineNamePattern.MatchString(s)
}

// ValidJobID reports whether s is a Snapdesk job id: a UUID in its
// canonical lower-case form.
func ValidJobID(s string) bool { return uuidPattern.MatchString(s) }

// ValidIdempotencyKey reports whether s is an idempotency key: a UUID (any
// version) in canonical lower case.
func ValidIdempotencyKey(s string) bool { return uuidPattern.MatchString(s) }

// NewIdempotencyKey returns a fresh random (version 4) UUID for a form's
// idempotency_key field: one per rendered form, so a double click or a
// resubmission makes one job.
func NewIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
