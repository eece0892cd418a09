// Package apitest holds Snapdesk's API to its OpenAPI document in tests:
// a client transport that validates every request it sends and every
// answer it gets against internal/api/openapi.yaml with kin-openapi.
package apitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/snapdesk/snapdesk/internal/api"
)

// host is where the document's server is placed for matching: requests
// are matched as if sent there, whatever test server answered them.
const host = "http://snapdesk.test"

var (
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	errDoc error
)

// Document parses and validates the API's OpenAPI document (once).
func Document() (*openapi3.T, error) {
	once.Do(func() {
		loader := openapi3.NewLoader()
		doc, errDoc = loader.LoadFromData(api.Document)
		if errDoc != nil {
			return
		}
		if errDoc = doc.Validate(context.Background()); errDoc != nil {
			return
		}
		// A copy for routing, with an absolute server.
		rdoc, err := loader.LoadFromData(api.Document)
		if err != nil {
			errDoc = err
			return
		}
		rdoc.Servers = openapi3.Servers{{URL: host + api.Prefix}}
		router, errDoc = legacy.NewRouter(rdoc)
	})
	return doc, errDoc
}

// Validate checks one exchange against the document: the request (path,
// parameters, headers, body; a request the document forbids must have been
// refused) and the answer (status, content type, body).
func Validate(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	if _, err := Document(); err != nil {
		return err
	}
	r := req.Clone(context.Background())
	u := *req.URL
	u.Scheme, u.Host = "http", strings.TrimPrefix(host, "http://")
	r.URL, r.Host = &u, u.Host
	route, params, err := router.FindRoute(r)
	if err != nil {
		return fmt.Errorf("no operation for %s %s: %w", req.Method, req.URL.Path, err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
	// A request the document does not allow must be refused (4xx); one it
	// allows may be answered anything the document lists.
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && resp.StatusCode < 400 {
		return fmt.Errorf("request %s %s does not match the document, yet was answered %d: %w", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(respBody)), Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("answer %d to %s %s does not match the document: %w\n%s", resp.StatusCode, req.Method, req.URL.Path, err, respBody)
	}
	return nil
}

// Transport validates every exchange with Validate, failing T on a mismatch.
type Transport struct {
	T    testing.TB
	Base http.RoundTripper
}

// RoundTrip sends req and validates the exchange.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if verr := Validate(req, reqBody, resp, respBody); verr != nil {
		t.T.Errorf("OpenAPI: %v", verr)
	}
	return resp, nil
}
