package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lapor/intake/channels/api"
)

// M7, CONTRACT §10: an Idempotency-Key reused with a different body is refused with 422
// and writes nothing; the same body again is a repeat (200, the first record).
func TestIdempotencyKeyReusedWithAnotherBody(t *testing.T) {
	s := loadSpec(t)
	g := startGateway(t)
	post := func(body string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, g.URL+api.Path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+jabarKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "ticket-42")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	first, body := post(`{"body": "Jalan rusak di depan pasar."}`)
	if first.StatusCode != http.StatusCreated {
		t.Fatalf("first POST: %d %s", first.StatusCode, body)
	}
	a := answerOf(t, body)
	// The same complaint, serialised differently, is still a repeat.
	again, body := post(`{ "body":"Jalan rusak di depan pasar." }`)
	if again.StatusCode != http.StatusOK || answerOf(t, body) != a {
		t.Errorf("same key, same body: %d %s; want 200 with %+v", again.StatusCode, body, a)
	}
	other, body := post(`{"body": "Lampu jalan mati."}`)
	if other.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("same key, other body: %d %s; want 422", other.StatusCode, body)
	}
	s.checkResponse(t, other, body) // the 422 is one docs/openapi.yaml describes
	if ct := other.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("422 Content-Type %q, want application/problem+json", ct)
	}
	var p api.Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil || p.Type != api.ProblemTypeKeyReused || p.Status != 422 {
		t.Errorf("problem %s (%v), want type %s", body, err, api.ProblemTypeKeyReused)
	}
	if api.ProblemTypeKeyReused != "tag:intake.lapor.go.id,2025:problem:idempotency-key-reused" {
		t.Errorf("problem type %q is not the contract's", api.ProblemTypeKeyReused)
	}
	recs := g.Records(t)
	if len(recs) != 1 || recs[0].ID != a.ID {
		t.Errorf("stream holds %d records, want only %s", len(recs), a.ID)
	}
}
