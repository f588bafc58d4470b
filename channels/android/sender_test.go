package android_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lapor/intake/channels/android"
)

func TestSendClassifiesFailures(t *testing.T) {
	cases := []struct {
		status int
		class  string
	}{
		{http.StatusUnauthorized, android.ClassConfig},
		{http.StatusNotFound, android.ClassConfig},
		{http.StatusTooManyRequests, android.ClassThrottle},
		{http.StatusBadGateway, android.ClassRetry},
		{http.StatusBadRequest, android.ClassPermanent},
		{http.StatusConflict, android.ClassPermanent},
	}
	for _, c := range cases {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(c.status) }))
			defer srv.Close()
			s, err := android.NewSender(android.Config{APIURL: srv.URL, Username: "u", Password: "p"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Send(context.Background(), "+6281234567801", "x")
			var se *android.SendError
			if !errors.As(err, &se) || se.Class != c.class || se.Status != c.status {
				t.Fatalf("err %v, want class %s", err, c.class)
			}
		})
	}
	s, _ := android.NewSender(android.Config{APIURL: "http://127.0.0.1:1", Username: "u", Password: "p"}, nil)
	_, err := s.Send(context.Background(), "+6281234567801", "x")
	var se *android.SendError
	if !errors.As(err, &se) || se.Class != android.ClassRetry {
		t.Fatalf("unreachable API: %v, want class retry", err)
	}
}

// TestSendFallsBackToTheOlderBody: an app from before textMessage refuses it with 400 and
// takes {"message": …}; the sender then keeps to the older body.
func TestSendFallsBackToTheOlderBody(t *testing.T) {
	var bodies []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		bodies = append(bodies, b)
		if _, ok := b["message"]; !ok {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"id":"legacy-1","state":"Pending"}`))
	}))
	defer srv.Close()
	s, _ := android.NewSender(android.Config{APIURL: srv.URL + "/", Username: "u", Password: "p"}, nil)
	for i := range 2 {
		id, err := s.Send(context.Background(), "+6281234567801", "nomor ABCD-1234")
		if err != nil || id != "legacy-1" {
			t.Fatalf("send %d: %q %v", i, id, err)
		}
	}
	if len(bodies) != 3 || bodies[0]["textMessage"] == nil || bodies[1]["message"] != "nomor ABCD-1234" || bodies[2]["message"] == nil {
		t.Fatalf("bodies %v: want textMessage, then message, then message only", bodies)
	}
}
