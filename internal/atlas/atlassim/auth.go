package atlassim

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// DigestRealm is the realm of Atlas's Digest challenge.
	DigestRealm = "MMS Public API"
	// NonceLifetime is how long (in simulated time) a Digest nonce stays
	// fresh. An older one is refused with a new challenge marked stale=true.
	NonceLifetime = 5 * time.Minute
	// TokenPath is the path of the service-account token endpoint.
	TokenPath = "/api/oauth/token"
)

// authenticate checks the Authorization header of an API call: Digest with
// the API key, or a bearer token from the token endpoint. It runs with s.mu
// held.
func (s *Server) authenticate(r *http.Request, now time.Time) *apiError {
	h := r.Header.Get("Authorization")
	scheme, rest, _ := strings.Cut(h, " ")
	switch {
	case h == "":
		return s.challenge(now, false, "You are not authorized for this resource.")
	case strings.EqualFold(scheme, "Bearer"):
		token := strings.TrimSpace(rest)
		exp, ok := s.tokens[token]
		if !ok {
			return s.challenge(now, false, "The access token is not valid.")
		}
		if !now.Before(exp) {
			delete(s.tokens, token)
			return s.challenge(now, false, "The access token has expired.")
		}
		return nil
	case strings.EqualFold(scheme, "Digest"):
		return s.checkDigest(r, rest, now)
	default:
		return s.challenge(now, false, "Unsupported authorization scheme.")
	}
}

// checkDigest verifies RFC 7616 Digest credentials (MD5, qop=auth) against
// the API key.
func (s *Server) checkDigest(r *http.Request, header string, now time.Time) *apiError {
	p, ok := parseAuthParams(header)
	if !ok {
		return s.challenge(now, false, "Malformed Digest credentials.")
	}
	if p["username"] != s.cfg.PublicKey || p["realm"] != DigestRealm {
		return s.challenge(now, false, "You are not authorized for this resource.")
	}
	if alg := p["algorithm"]; alg != "" && !strings.EqualFold(alg, "MD5") {
		return s.challenge(now, false, "Unsupported Digest algorithm.")
	}
	if p["qop"] != "auth" || p["nc"] == "" || p["cnonce"] == "" {
		return s.challenge(now, false, "Digest credentials must use qop=auth.")
	}
	if p["uri"] != r.URL.RequestURI() && p["uri"] != r.RequestURI {
		return s.challenge(now, false, "Digest uri does not match the request.")
	}
	fresh, valid := s.checkNonce(p["nonce"], now)
	if !valid {
		return s.challenge(now, false, "You are not authorized for this resource.")
	}
	ha1 := md5Hex(p["username"] + ":" + DigestRealm + ":" + s.cfg.PrivateKey)
	ha2 := md5Hex(r.Method + ":" + p["uri"])
	want := md5Hex(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(p["response"]))) != 1 {
		return s.challenge(now, false, "You are not authorized for this resource.")
	}
	if !fresh {
		return s.challenge(now, true, "The Digest nonce is stale.")
	}
	return nil
}

// challenge is a 401 carrying a fresh Digest challenge.
func (s *Server) challenge(now time.Time, stale bool, detail string) *apiError {
	e := errUnauthorized(detail)
	e.Header = http.Header{}
	e.Header.Set("WWW-Authenticate", fmt.Sprintf(
		`Digest realm="%s", domain="", nonce="%s", algorithm=MD5, qop="auth", stale=%t`,
		DigestRealm, s.newNonce(now), stale))
	return e
}

// newNonce is hex(issue time) + hex(random) + hex(HMAC of both), so the
// server needs no memory of the nonces it gave out.
func (s *Server) newNonce(now time.Time) string {
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(now.UnixNano()))
	_, _ = rand.Read(buf[8:])
	m := hmac.New(sha256.New, s.nonceKey)
	m.Write(buf[:])
	return hex.EncodeToString(buf[:]) + hex.EncodeToString(m.Sum(nil)[:16])
}

// checkNonce reports whether the nonce is one of ours (valid) and still young
// enough (fresh).
func (s *Server) checkNonce(nonce string, now time.Time) (fresh, valid bool) {
	raw, err := hex.DecodeString(nonce)
	if err != nil || len(raw) != 32 {
		return false, false
	}
	m := hmac.New(sha256.New, s.nonceKey)
	m.Write(raw[:16])
	if !hmac.Equal(m.Sum(nil)[:16], raw[16:]) {
		return false, false
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8])))
	return now.Sub(issued) <= NonceLifetime, true
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// parseAuthParams reads the comma-separated key=value and key="value" pairs
// of a Digest Authorization header (after the scheme).
func parseAuthParams(s string) (map[string]string, bool) {
	params := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return params, true
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, false
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s); i++ {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					i++
					b.WriteByte(s[i])
					continue
				}
				if c == '"' {
					break
				}
				b.WriteByte(c)
			}
			if i >= len(s) {
				return nil, false // unterminated quoted string
			}
			val, s = b.String(), s[i+1:]
		} else {
			end := strings.IndexAny(s, ", \t")
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
		}
		params[key] = val
	}
}

// tokenError is the OAuth 2 error body of RFC 6749 section 5.2.
type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// tokenAnswer is the token endpoint's success body.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// serveToken is POST /api/oauth/token: Basic client id and secret, form body
// grant_type=client_credentials, a bearer token back.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, desc string, h http.Header) {
		for k, v := range h {
			w.Header()[k] = v
		}
		writeRaw(w, status, "application/json", mustJSON(tokenError{Error: code, Description: desc}))
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, "invalid_request", "The token endpoint only accepts POST.", http.Header{"Allow": {"POST"}})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	formErr := r.ParseForm()
	id, secret, hasBasic := r.BasicAuth()
	key := id
	if !hasBasic {
		key = r.PostForm.Get("client_id")
	}
	if key == "" {
		key, _, _ = net.SplitHostPort(r.RemoteAddr)
	}

	s.mu.Lock()
	now := s.nowLocked()
	b := s.tokenBuckets[key]
	if b == nil {
		if len(s.tokenBuckets) >= maxBuckets {
			s.tokenBuckets = map[string]*bucket{} // bound memory under a flood of client ids
		}
		b = &bucket{}
		s.tokenBuckets[key] = b
	}
	limit := RateLimit{Limit: s.cfg.TokenRateLimit, Window: time.Minute}
	ok, remaining, wait := b.take(now, limit)
	s.calls["oauthToken"]++
	s.mu.Unlock()

	rl := http.Header{}
	rl.Set("RateLimit-Limit", strconv.Itoa(limit.Limit))
	rl.Set("RateLimit-Remaining", strconv.Itoa(remaining))
	if !ok {
		rl.Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
		fail(http.StatusTooManyRequests, "rate_limit_exceeded",
			fmt.Sprintf("The token endpoint is limited to %d requests a minute.", limit.Limit), rl)
		return
	}
	if !hasBasic ||
		subtle.ConstantTimeCompare([]byte(id), []byte(s.cfg.ClientID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.ClientSecret)) != 1 {
		rl.Set("WWW-Authenticate", `Basic realm="oauth"`)
		fail(http.StatusUnauthorized, "invalid_client", "Client authentication failed.", rl)
		return
	}
	if formErr != nil {
		fail(http.StatusBadRequest, "invalid_request", "The request body is not a valid form.", rl)
		return
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		fail(http.StatusBadRequest, "invalid_request", "grant_type is missing.", rl)
		return
	default:
		fail(http.StatusBadRequest, "unsupported_grant_type", "Only grant_type=client_credentials is supported.", rl)
		return
	}

	var raw [32]byte
	_, _ = rand.Read(raw[:])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	s.mu.Lock()
	now = s.nowLocked()
	for t, exp := range s.tokens {
		if !now.Before(exp) {
			delete(s.tokens, t)
		}
	}
	s.tokens[token] = now.Add(s.cfg.TokenTTL)
	s.mu.Unlock()

	for k, v := range rl {
		w.Header()[k] = v
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeRaw(w, http.StatusOK, "application/json", mustJSON(tokenAnswer{
		AccessToken: token,
		ExpiresIn:   int(s.cfg.TokenTTL / time.Second),
		TokenType:   "Bearer",
	}))
}

// mustJSON encodes values the simulator builds itself; they always encode.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{"error":500,"errorCode":"UNEXPECTED_ERROR","detail":"encoding failed","parameters":[],"reason":"Internal Server Error"}`)
	}
	return b
}
