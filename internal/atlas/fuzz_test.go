package atlas

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

func FuzzValidatePathParams(f *testing.F) {
	for _, s := range []string{"Cluster0", "-x", "a/b", "", "65a1b2c3d4e5f60718293a01", "p ipe", `a"b`, "ü", "a$b", "%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidClusterName(s) && (s == "" || len(s) > 64 || bytes.ContainsAny([]byte(s), "/ %?#")) {
			t.Errorf("cluster name %q accepted", s)
		}
		if ValidPipelineName(s) && (s == "" || bytes.ContainsAny([]byte(s), `/\ "$`)) {
			t.Errorf("pipeline name %q accepted", s)
		}
		if ValidID(s) && len(s) != 24 {
			t.Errorf("id %q accepted", s)
		}
		// Whatever passes validation is escaped into exactly one path segment.
		if ValidPipelineName(s) {
			if p := groupPath("65a1b2c3d4e5f60718293a01", "pipelines", esc(s)); bytes.Count([]byte(p), []byte("/")) != 7 {
				t.Errorf("pipeline name %q escapes its segment: %s", s, p)
			}
		}
	})
}

func FuzzDecodeError(f *testing.F) {
	for _, s := range []string{`{"error":404,"errorCode":"CLUSTER_NOT_FOUND","detail":"x","parameters":["a",1]}`, `{`, `null`, `[]`, `{"parameters":{"a":1}}`, ""} {
		f.Add(404, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		err := decodeError("op", resp, body)
		e, ok := err.(*Error)
		if !ok || e.HTTPStatus != status || e.Message() == "" {
			t.Fatalf("decodeError(%d, %q) = %#v", status, body, err)
		}
	})
}
