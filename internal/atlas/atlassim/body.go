package atlassim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// decodeBody reads the request body of c into dst the way Atlas does: the
// versioned media type in Content-Type, a JSON object, no unknown fields.
func decodeBody(c *call, dst any) error {
	want := mediaType(c.version)
	mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || mt != want {
		return newError(http.StatusBadRequest, "UNSUPPORTED_MEDIA_TYPE",
			"The request body must be sent with Content-Type %s.", want)
	}
	if len(bytes.TrimSpace(c.body)) == 0 {
		return newError(http.StatusBadRequest, "MALFORMED_JSON", "Received JSON is malformed: the request body is empty.")
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return newError(http.StatusBadRequest, "MALFORMED_JSON", "Received JSON is malformed: data after the JSON object.")
	}
	return nil
}

// jsonError turns an encoding/json error into Atlas's error codes.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return newError(http.StatusBadRequest, "INVALID_JSON", "Received JSON does not match expected format.")
		}
		return newError(http.StatusBadRequest, "INVALID_JSON_ATTRIBUTE",
			"Received JSON for the %s attribute does not match expected format.", typeErr.Field)
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return newError(http.StatusBadRequest, "MALFORMED_JSON", "Received JSON is malformed.")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return newError(http.StatusBadRequest, "INVALID_ATTRIBUTE", "Invalid attribute %s specified.", strings.Trim(name, `"`))
	}
	return newError(http.StatusBadRequest, "INVALID_JSON", "Received JSON does not match expected format.")
}

// violations collects the schema violations of a request body.
type violations []fieldViolation

func (v *violations) add(field, description string) {
	*v = append(*v, fieldViolation{Field: field, Description: description})
}

// hexID notes a missing required id and checks a present one against the
// 24-hex id pattern.
func (v *violations) hexID(field string, value *string, required bool) {
	switch {
	case value == nil && required:
		v.add(field, "is required")
	case value != nil && !hexIDPattern.MatchString(*value):
		v.add(field, "must match the pattern ^([a-f0-9]{24})$")
	}
}

// int32Min checks an optional int32 with a minimum.
func (v *violations) int32Min(field string, value *int64, minimum int64) {
	switch {
	case value == nil:
	case *value < minimum:
		v.add(field, "must be at least "+strconv.FormatInt(minimum, 10))
	case *value > math.MaxInt32:
		v.add(field, "must fit in int32")
	}
}

func (v violations) err() error {
	if len(v) == 0 {
		return nil
	}
	return errValidation(v...)
}
