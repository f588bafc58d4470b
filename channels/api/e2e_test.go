package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/api"
	"github.com/lapor/intake/docs"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/record"
)

const (
	jabarKey   = "jabar-0123456789abcdef"
	webformKey = "webform-fedcba9876543210"
	testLimit  = 64 << 10
)

// spec is docs/openapi.yaml, loaded once; every request the end-to-end tests send and
// every answer they get is checked against it.
type spec struct {
	router routers.Router
}

func loadSpec(t testing.TB) *spec {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(docs.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &spec{router: r}
}

var specOptions = &openapi3filter.Options{
	MultiError:            true,
	IncludeResponseStatus: true, // an answer with a status the document does not list fails
	AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		// The document can say "a bearer key", not which keys are right.
		if tok, ok := api.BearerToken(in.RequestValidationInput.Request.Header.Get("Authorization")); !ok || tok == "" {
			return errors.New("no bearer key")
		}
		return nil
	},
}

func (s *spec) requestInput(t testing.TB, req *http.Request) *openapi3filter.RequestValidationInput {
	t.Helper()
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s is not in openapi.yaml: %v", req.Method, req.URL.Path, err)
	}
	return &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: specOptions}
}

// checkRequest validates req against the document: it must pass when specValid, and fail
// otherwise (the document then refuses what the gateway refuses).
func (s *spec) checkRequest(t testing.TB, req *http.Request, specValid bool) {
	t.Helper()
	err := openapi3filter.ValidateRequest(context.Background(), s.requestInput(t, req))
	switch {
	case specValid && err != nil:
		t.Fatalf("the request does not validate against openapi.yaml: %v", err)
	case !specValid && err == nil:
		t.Fatalf("openapi.yaml accepts a request the gateway refuses")
	}
}

// checkResponse validates an answer against the document.
func (s *spec) checkResponse(t testing.TB, resp *http.Response, body string) {
	t.Helper()
	req := resp.Request.Clone(context.Background())
	req.Body = http.NoBody
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: s.requestInput(t, req),
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(strings.NewReader(body)),
		Options:                specOptions,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Fatalf("the %d answer does not validate against openapi.yaml: %v\nbody: %s", resp.StatusCode, err, body)
	}
}

// apiCase makes c an API call: headers set, the request checked against the document
// before it is sent and the answer after.
func (s *spec) apiCase(c gatewaytest.Case, specValid bool, headers map[string]string) gatewaytest.Case {
	if c.Path == "" {
		c.Path = api.Path
	}
	sign := c.Sign
	c.Sign = func(t testing.TB, req *http.Request, base string, body []byte) {
		if _, ok := headers["Content-Type"]; !ok {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range headers {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		if sign != nil {
			sign(t, req, base, body)
		}
		s.checkRequest(t, req, specValid)
	}
	check := c.Check
	c.Check = func(t testing.TB, added []*record.Complaint, rej []map[string]any, resp *http.Response, body string) {
		s.checkResponse(t, resp, body)
		if resp.StatusCode >= 400 && resp.Request.Method == http.MethodPost {
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") &&
				!(resp.StatusCode == http.StatusRequestEntityTooLarge && strings.HasPrefix(ct, "text/plain")) {
				t.Errorf("error answer is %q, not application/problem+json", ct)
			}
		}
		if check != nil {
			check(t, added, rej, resp, body)
		}
	}
	return c
}

func startGateway(t *testing.T) *gatewaytest.Gateway {
	return gatewaytest.Start(t, gatewaytest.Options{
		MaxBodyBytes: testLimit,
		Mount: func(t testing.TB, g *gatewaytest.Gateway) {
			cfg := api.Config{Keys: "callcentre-jabar:" + jabarKey + ",webform:" + webformKey}
			// serve.go's wiring; without media keys any API key reads
			ch, err := api.New(cfg, g.Sink, api.Options{Media: g.Media.Handler(channels.WriteProblem)})
			if err != nil {
				t.Fatal(err)
			}
			ch.Routes(g.Router)
		},
	})
}

func answerOf(t testing.TB, body string) api.Answer {
	t.Helper()
	var a api.Answer
	if err := json.Unmarshal([]byte(body), &a); err != nil || a.ID == "" || a.Reference == "" {
		t.Fatalf("answer %q is not {id, reference}: %v", body, err)
	}
	return a
}

func problemFields(t testing.TB, body string) []string {
	t.Helper()
	var p api.Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("problem %q: %v", body, err)
	}
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

func wantFields(want ...string) func(testing.TB, []*record.Complaint, []map[string]any, *http.Response, string) {
	return func(t testing.TB, _ []*record.Complaint, _ []map[string]any, _ *http.Response, body string) {
		got := problemFields(t, body)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("the 400 names %v, want %v", got, want)
		}
	}
}

const fullBody = `{
  "sender": {"name": "Siti Aminah", "phone": "0812-3456-7801", "email": "Siti.Aminah@Example.CO.ID"},
  "subject": "Jalan rusak",
  "body": "Jalan di depan SD Negeri 3 berlubang besar.",
  "location": {"latitude": -6.9175, "longitude": 107.6191, "name": "SD Negeri 3", "address": "Jl. Merdeka No. 3, Bandung"},
  "received_at": "2025-03-04T10:15:00+07:00",
  "agent": "operator-17",
  "channel_data": {"ticket": "CC-2025-000123"}
}`

func TestAPIEndToEnd(t *testing.T) {
	s := loadSpec(t)
	g := startGateway(t)
	bearer := func(k string) map[string]string { return map[string]string{"Authorization": "Bearer " + k} }
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	idem := api.NewIdempotencyKey()
	var first string // the first answer for idem

	cases := []gatewaytest.Case{
		s.apiCase(gatewaytest.Case{
			Name: "valid complaint is created", Body: []byte(fullBody), WantStatus: http.StatusCreated, WantRecords: 1,
			Check: func(t testing.TB, added []*record.Complaint, _ []map[string]any, resp *http.Response, body string) {
				first = body
				a := answerOf(t, body)
				c := added[0]
				if c.ID != a.ID || c.Reference != a.Reference {
					t.Errorf("answer %+v, record %s %s", a, c.ID, c.Reference)
				}
				if c.Channel != "api" || c.Provider != "api" || c.ProviderMessageID != idem {
					t.Errorf("channel %q provider %q provider_message_id %q", c.Channel, c.Provider, c.ProviderMessageID)
				}
				if c.Sender == nil || c.Sender.Phone != "+6281234567801" || c.Sender.Email != "siti.aminah@example.co.id" || c.Sender.Name != "Siti Aminah" {
					t.Errorf("sender %+v", c.Sender)
				}
				if c.ChannelData["submitted_by"] != "callcentre-jabar" || c.ChannelData["agent"] != "operator-17" || c.ChannelData["ticket"] != "CC-2025-000123" {
					t.Errorf("channel_data %v", c.ChannelData)
				}
				if c.SentAt != "2025-03-04T03:15:00Z" {
					t.Errorf("sent_at %q (the caller's received_at, in UTC)", c.SentAt)
				}
				if _, err := time.Parse(time.RFC3339, c.ReceivedAt); err != nil || c.ReceivedAt == c.SentAt {
					t.Errorf("received_at %q should be the gateway's time", c.ReceivedAt)
				}
				if c.Subject != "Jalan rusak" || c.Body != "Jalan di depan SD Negeri 3 berlubang besar." || c.Language != "id" {
					t.Errorf("subject %q body %q language %q", c.Subject, c.Body, c.Language)
				}
				if l := c.Location; l == nil || *l.Latitude != -6.9175 || *l.Longitude != 107.6191 || l.Name != "SD Negeri 3" {
					t.Errorf("location %+v", l)
				}
			},
		}, true, with(bearer(jabarKey), "Idempotency-Key", idem)),
		s.apiCase(gatewaytest.Case{
			Name: "same Idempotency-Key repeats the answer with 200", Body: []byte(fullBody), WantStatus: http.StatusOK,
			Check: func(t testing.TB, _ []*record.Complaint, _ []map[string]any, _ *http.Response, body string) {
				if body != first {
					t.Errorf("repeat answered %s, first %s", body, first)
				}
			},
		}, true, with(bearer(jabarKey), "Idempotency-Key", idem)),
		s.apiCase(gatewaytest.Case{
			Name: "same key as a Structured Fields string is the same key", Body: []byte(fullBody), WantStatus: http.StatusOK,
			Check: func(t testing.TB, _ []*record.Complaint, _ []map[string]any, _ *http.Response, body string) {
				if body != first {
					t.Errorf("repeat answered %s, first %s", body, first)
				}
			},
		}, true, with(bearer(jabarKey), "Idempotency-Key", `"`+idem+`"`)),
		s.apiCase(gatewaytest.Case{
			Name: "no Idempotency-Key: a new record each time", Body: []byte(`{"body":"Lampu jalan mati"}`),
			WantStatus: http.StatusCreated, WantRecords: 1,
			Check: func(t testing.TB, added []*record.Complaint, _ []map[string]any, _ *http.Response, body string) {
				if added[0].ProviderMessageID != "" || added[0].ChannelData["submitted_by"] != "webform" {
					t.Errorf("record %+v", added[0])
				}
			},
		}, true, bearer(webformKey)),
		s.apiCase(gatewaytest.Case{
			Name: "no Idempotency-Key again: another record", Body: []byte(`{"body":"Lampu jalan mati"}`),
			WantStatus: http.StatusCreated, WantRecords: 1,
		}, true, bearer(webformKey)),
		s.apiCase(gatewaytest.Case{
			Name: "location without body", Body: []byte(`{"location":{"latitude":-6.2,"longitude":106.8}}`),
			WantStatus: http.StatusCreated, WantRecords: 1,
			Check: func(t testing.TB, added []*record.Complaint, _ []map[string]any, _ *http.Response, _ string) {
				if !added[0].HasFlag(record.FlagMediaOnly) {
					t.Errorf("flags %v", added[0].Flags)
				}
			},
		}, true, with(bearer(jabarKey), "Idempotency-Key", api.NewIdempotencyKey())),
		s.apiCase(gatewaytest.Case{
			Name: "lower-case bearer scheme", Body: []byte(`{"body":"Sampah menumpuk"}`),
			WantStatus: http.StatusCreated, WantRecords: 1,
		}, true, map[string]string{"Authorization": "bearer " + jabarKey}),

		s.apiCase(gatewaytest.Case{Name: "no key", Body: []byte(fullBody), WantStatus: http.StatusUnauthorized,
			WantBodyContains: []string{"Bearer"}}, false, nil),
		s.apiCase(gatewaytest.Case{Name: "wrong key", Body: []byte(fullBody), WantStatus: http.StatusUnauthorized},
			true, bearer(jabarKey+"x")),
		s.apiCase(gatewaytest.Case{Name: "basic auth", Body: []byte(fullBody), WantStatus: http.StatusUnauthorized},
			false, map[string]string{"Authorization": "Basic " + jabarKey}),
		s.apiCase(gatewaytest.Case{Name: "key name is not a key", Body: []byte(fullBody), WantStatus: http.StatusUnauthorized},
			true, bearer("callcentre-jabar")),

		s.apiCase(gatewaytest.Case{Name: "bad fields, each named",
			Body:       []byte(`{"sender":{"email":"siti at example"},"location":{"latitude":-91,"longitude":200}}`),
			WantStatus: http.StatusBadRequest,
			Check:      wantFields("location.latitude", "location.longitude", "sender.email")}, false, bearer(jabarKey)),
		s.apiCase(gatewaytest.Case{Name: "no body and no location", Body: []byte(`{"subject":"Jalan"}`),
			WantStatus: http.StatusBadRequest, Check: wantFields("body")}, false, bearer(jabarKey)),
		s.apiCase(gatewaytest.Case{Name: "unknown fields, each named", Body: []byte(`{"body":"b","priority":"high","sender":{"nik":"3273010101010001"}}`),
			WantStatus: http.StatusBadRequest, Check: wantFields("priority", "sender.nik")}, false, bearer(jabarKey)),
		s.apiCase(gatewaytest.Case{Name: "wrong types", Body: []byte(`{"body":42,"location":{"latitude":"-6.9","longitude":106}}`),
			WantStatus: http.StatusBadRequest, Check: wantFields("body", "location.latitude")}, false, bearer(jabarKey)),
		s.apiCase(gatewaytest.Case{Name: "bad Idempotency-Key", Body: []byte(`{"body":"b"}`),
			WantStatus: http.StatusBadRequest, Check: wantFields("Idempotency-Key")},
			false, with(bearer(jabarKey), "Idempotency-Key", strings.Repeat("k", 300))),
		// What the document cannot express (a parseable phone number, the clock) is the
		// gateway's alone: such requests validate against the document and still get 400.
		s.apiCase(gatewaytest.Case{Name: "phone that is not a number",
			Body:       []byte(`{"body":"b","sender":{"phone":"12"},"received_at":"2999-01-01T00:00:00Z"}`),
			WantStatus: http.StatusBadRequest, Check: wantFields("received_at", "sender.phone")}, true, bearer(jabarKey)),
		s.apiCase(gatewaytest.Case{Name: "not JSON", Body: []byte(`{"body":`), WantStatus: http.StatusBadRequest,
			WantBodyContains: []string{"not valid JSON"}}, false, bearer(jabarKey)),
		s.apiCase(gatewaytest.Case{Name: "form body", Body: []byte(`body=Jalan+rusak`), WantStatus: http.StatusUnsupportedMediaType},
			false, with(bearer(jabarKey), "Content-Type", "application/x-www-form-urlencoded")),

		s.apiCase(gatewaytest.Case{Name: "oversize with Content-Length", WantStatus: http.StatusRequestEntityTooLarge,
			Body: []byte(`{"body":"` + strings.Repeat("x", testLimit) + `"}`)}, true, bearer(jabarKey)),
		s.apiCase(gatewaytest.Case{Name: "oversize chunked", WantStatus: http.StatusRequestEntityTooLarge,
			Body: []byte(`{"body":"` + strings.Repeat("x", testLimit) + `"}`),
			Sign: func(_ testing.TB, req *http.Request, _ string, _ []byte) { req.ContentLength = -1 },
			Check: func(t testing.TB, _ []*record.Complaint, _ []map[string]any, resp *http.Response, _ string) {
				// No declared length: the API itself reads past the limit and answers.
				if ct := resp.Header.Get("Content-Type"); ct != api.ProblemContentType {
					t.Errorf("Content-Type %q", ct)
				}
			}}, true, bearer(jabarKey)),
	}
	gatewaytest.Run(t, g, cases)
	if t.Failed() {
		return
	}
	recs := g.Records(t) // every record validated against docs/complaint.v1.schema.json
	if len(recs) != 5 {
		t.Fatalf("stream holds %d records, want 5", len(recs))
	}
}

// TestIdempotencyKeyScope pins the scope: an Idempotency-Key is unique per API key, so
// another call centre sending the same Idempotency-Key gets its own record, while a repeat
// from the first one still gets the first answer.
func TestIdempotencyKeyScope(t *testing.T) {
	s := loadSpec(t)
	g := startGateway(t)
	idem := api.NewIdempotencyKey()
	var first string
	gatewaytest.Run(t, g, []gatewaytest.Case{
		s.apiCase(gatewaytest.Case{Name: "first key", Body: []byte(`{"body":"Jalan rusak"}`), WantStatus: http.StatusCreated, WantRecords: 1,
			Check: func(_ testing.TB, _ []*record.Complaint, _ []map[string]any, _ *http.Response, body string) {
				first = body
			}},
			true, map[string]string{"Authorization": "Bearer " + jabarKey, "Idempotency-Key": idem}),
		s.apiCase(gatewaytest.Case{Name: "other key, same Idempotency-Key", Body: []byte(`{"body":"Lampu mati"}`), WantStatus: http.StatusCreated,
			WantRecords: 1,
			Check: func(t testing.TB, recs []*record.Complaint, _ []map[string]any, _ *http.Response, body string) {
				if body == first || recs[0].ProviderMessageID != idem || recs[0].ChannelData["submitted_by"] == nil {
					t.Errorf("answered %s (first %s), record %+v", body, first, recs[0])
				}
			}},
			true, map[string]string{"Authorization": "Bearer " + webformKey, "Idempotency-Key": idem}),
		s.apiCase(gatewaytest.Case{Name: "first key repeats", Body: []byte(`{"body":"Jalan rusak"}`), WantStatus: http.StatusOK,
			Check: func(t testing.TB, _ []*record.Complaint, _ []map[string]any, _ *http.Response, body string) {
				if body != first {
					t.Errorf("answered %s, first %s", body, first)
				}
			}},
			true, map[string]string{"Authorization": "Bearer " + jabarKey, "Idempotency-Key": idem}),
	})
}

// TestConcurrentRepeats: the same Idempotency-Key sent at once yields one record, and every
// answer carries its id and reference (one 201, the rest 200).
func TestConcurrentRepeats(t *testing.T) {
	s := loadSpec(t)
	g := startGateway(t)
	idem := api.NewIdempotencyKey()
	c := s.apiCase(gatewaytest.Case{Body: []byte(fullBody)}, true,
		map[string]string{"Authorization": "Bearer " + jabarKey, "Idempotency-Key": idem})
	const n = 5
	type result struct {
		status int
		body   string
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := g.Do(t, c)
			results <- result{resp.StatusCode, body}
		}()
	}
	wg.Wait()
	close(results)
	created, answers := 0, map[string]bool{}
	for r := range results {
		switch r.status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		answers[r.body] = true
	}
	if created != 1 || len(answers) != 1 {
		t.Fatalf("%d answers were 201 and %d distinct bodies came back; want 1 and 1", created, len(answers))
	}
	if recs := g.Records(t); len(recs) != 1 {
		t.Fatalf("stream holds %d records, want 1", len(recs))
	}
}

// TestMediaRequiresKey: GET /media/{sha256} behind RequireKey, checked against the document.
func TestMediaRequiresKey(t *testing.T) {
	s := loadSpec(t)
	g := startGateway(t)
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	blob, err := g.Media.Put(strings.NewReader(string(png)), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	path := "/media/" + blob.SHA256
	get := func(name, p string, status int, specValid bool, hdr map[string]string, check func(testing.TB, string)) gatewaytest.Case {
		return s.apiCase(gatewaytest.Case{Name: name, Method: http.MethodGet, Path: p, WantStatus: status,
			Check: func(t testing.TB, _ []*record.Complaint, _ []map[string]any, resp *http.Response, body string) {
				if check != nil {
					check(t, body)
				}
				if status == http.StatusUnauthorized && (body == string(png) || resp.Header.Get("WWW-Authenticate") == "") {
					t.Error("401 without a challenge, or with the bytes")
				}
			}}, specValid, hdr)
	}
	gatewaytest.Run(t, g, []gatewaytest.Case{
		get("no key", path, http.StatusUnauthorized, false, nil, nil),
		get("wrong key", path, http.StatusUnauthorized, true, map[string]string{"Authorization": "Bearer not-a-key-at-all"}, nil),
		get("right key", path, http.StatusOK, true, map[string]string{"Authorization": "Bearer " + webformKey}, func(t testing.TB, body string) {
			if body != string(png) {
				t.Error("the attachment's bytes differ")
			}
		}),
		get("unknown sha256", "/media/"+strings.Repeat("0", 64), http.StatusNotFound, true, map[string]string{"Authorization": "Bearer " + jabarKey}, nil),
	})
}

// TestCrossCuttingChecks runs the checks every channel passes: a wrong or missing key gets
// 401 and writes nothing, an oversize body gets 413, and no answer holds a key.
func TestCrossCuttingChecks(t *testing.T) {
	g := startGateway(t)
	valid := gatewaytest.Case{Name: "valid", Path: api.Path, Body: []byte(fullBody), WantStatus: http.StatusCreated, WantRecords: 1,
		Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + jabarKey}}}
	gatewaytest.Run(t, g, []gatewaytest.Case{valid})
	gatewaytest.RunCrossCutting(t, g, valid, gatewaytest.Credential{Header: "Authorization", Refused: http.StatusUnauthorized},
		testLimit, jabarKey, webformKey)
}
