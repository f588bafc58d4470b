// Package twiliotest is a stand-in for Twilio's REST Messages API (httptest): it records
// every message create call and answers with what the test scripted.
package twiliotest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Answer is one scripted reply: an HTTP status and, for errors, Twilio's code.
type Answer struct {
	Status int
	Code   int
	// Hold, when set, delays the reply until it is closed (a hung request).
	Hold chan struct{}
}

// API is the stand-in. Its URL is the base for INTAKE_TWILIO_API_URL.
type API struct {
	*httptest.Server
	mu      sync.Mutex
	sends   []url.Values
	answers []Answer
	seq     int
}

// New starts a stand-in, closed with the test.
func New(t testing.TB) *API {
	a := &API{}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

// Script queues answers for the next calls; calls beyond them succeed.
func (a *API) Script(answers ...Answer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.answers = append(a.answers, answers...)
}

// Sends returns the forms of every create call so far.
func (a *API) Sends() []url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]url.Values(nil), a.sends...)
}

func (a *API) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/Messages.json") || !strings.HasPrefix(r.URL.Path, "/2010-04-01/Accounts/") {
		http.Error(w, `{"code":20404,"message":"not found","status":404}`, http.StatusNotFound)
		return
	}
	if _, _, ok := r.BasicAuth(); !ok {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":20003,"message":"Authenticate","status":401}`)
		return
	}
	_ = r.ParseForm()
	a.mu.Lock()
	a.sends = append(a.sends, r.PostForm)
	var ans Answer
	if len(a.answers) > 0 {
		ans, a.answers = a.answers[0], a.answers[1:]
	}
	a.seq++
	sid := fmt.Sprintf("SM%032d", a.seq)
	a.mu.Unlock()
	if ans.Hold != nil {
		select {
		case <-ans.Hold:
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if ans.Status >= 300 {
		w.WriteHeader(ans.Status)
		fmt.Fprintf(w, `{"code":%d,"message":"scripted error %d","more_info":"https://www.twilio.com/docs/errors/%d","status":%d}`, ans.Code, ans.Code, ans.Code, ans.Status)
		return
	}
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"sid":%q,"status":"queued","num_segments":"1","to":%q,"from":%q}`, sid, r.PostForm.Get("To"), r.PostForm.Get("From"))
}
