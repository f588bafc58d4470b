package android_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/channels/android"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

// The send API's answers become outbound classes: 429 throttles, 401/403/404 are the
// gateway's settings, other 4xx permanent, a 5xx or a timeout may have sent the SMS
// (ambiguous), and a refused connection provably sent nothing (retry).
func TestAnswerClassifiesTheSendAPI(t *testing.T) {
	cases := []struct {
		status    int
		class     outbound.Class
		ambiguous bool
	}{
		{http.StatusTooManyRequests, outbound.ClassThrottle, false},
		{http.StatusUnauthorized, outbound.ClassConfig, false},
		{http.StatusForbidden, outbound.ClassConfig, false},
		{http.StatusNotFound, outbound.ClassConfig, false},
		{http.StatusBadRequest, outbound.ClassPermanent, false},
		{http.StatusConflict, outbound.ClassPermanent, false},
		{http.StatusInternalServerError, outbound.ClassRetry, true},
		{http.StatusBadGateway, outbound.ClassRetry, true},
	}
	for _, c := range cases {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(c.status) }))
			defer srv.Close()
			a, err := android.NewAnswerer(android.Config{APIURL: srv.URL, Username: "u", Password: "p"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.Send(context.Background(), outgoing("+6281234567801", "x"))
			var oe *outbound.Error
			if !errors.As(err, &oe) || oe.Class != c.class || oe.Ambiguous != c.ambiguous || oe.Code != fmt.Sprint(c.status) {
				t.Fatalf("err %#v, want class %s ambiguous %v", err, c.class, c.ambiguous)
			}
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		a, _ := android.NewAnswerer(android.Config{APIURL: "http://127.0.0.1:1", Username: "u", Password: "p"}, nil)
		_, err := a.Send(context.Background(), outgoing("+6281234567801", "x"))
		var oe *outbound.Error
		if !errors.As(err, &oe) || oe.Class != outbound.ClassRetry || oe.Ambiguous {
			t.Fatalf("err %v, want a plain retry", err)
		}
	})
	t.Run("no answer in time", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release)
		a, _ := android.NewAnswerer(android.Config{APIURL: srv.URL, Username: "u", Password: "p"}, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := a.Send(ctx, outgoing("+6281234567801", "x"))
		var oe *outbound.Error
		if !errors.As(err, &oe) || !oe.Ambiguous {
			t.Fatalf("err %v, want ambiguous", err)
		}
	})
}

func outgoing(to, text string) outbound.Outgoing {
	return outbound.Outgoing{OutboundID: "o1", Text: text,
		Contact: record.Contact{Channel: record.ChannelSMS, Provider: record.ProviderAndroid, Address: to}}
}

// answerRig is the channel on a real gateway with the return path's real parts on Redis:
// the Worker with the channel's Answerer, and the Tracker its delivery reports go to.
type answerRig struct {
	g      *gatewaytest.Gateway
	phone  *phoneAPI
	store  *queue.OutboundStore
	worker *outbound.Worker
}

func newAnswerRig(t *testing.T) *answerRig {
	t.Helper()
	a := &answerRig{phone: newPhoneAPI(t)}
	cfg := android.Config{SigningKey: key, APIURL: a.phone.URL, Username: apiUser, Password: apiPass}
	a.g = gatewaytest.Start(t, gatewaytest.Options{Mount: func(t testing.TB, g *gatewaytest.Gateway) {
		store, err := queue.OpenOutbound(context.Background(), g.QueueCfg, queue.OutboundConfig{})
		if err != nil {
			t.Fatal(err)
		}
		contacts, err := queue.OpenContacts(g.QueueCfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close(); _ = contacts.Close() })
		ch, err := android.New(cfg, g.Sink, android.Options{Region: "ID", Statuses: &outbound.Tracker{Store: store}})
		if err != nil {
			t.Fatal(err)
		}
		ch.Routes(g.Router)
		answerer, err := android.NewAnswerer(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		a.store = store
		a.worker = &outbound.Worker{Store: store, Contacts: contacts, Senders: map[string]outbound.Sender{"sms/android": answerer},
			RetryInterval: time.Millisecond, MaxInterval: time.Millisecond, ThrottlePause: time.Millisecond}
	}})
	return a
}

func (a *answerRig) post(t *testing.T, body []byte) int {
	t.Helper()
	resp, _ := a.g.Do(t, signed("post", body))
	return resp.StatusCode
}

func (a *answerRig) deliveries(t *testing.T, id string) []outbound.Delivery {
	t.Helper()
	return a.g.Deliveries(t, id)
}

// report is the phone's sms:sent/delivered/failed event about the SMS with messageID.
func report(event, eventID, messageID string) []byte {
	b, _ := json.Marshal(map[string]any{"deviceId": deviceID, "event": event, "id": eventID, "webhookId": "w",
		"payload": map[string]any{"messageId": messageID, "phoneNumber": "+6281234567801", "reason": "RESULT_ERROR_GENERIC_FAILURE"}})
	return b
}

// An answer to an SMS that came through the phone goes back through the phone's send API
// once, even when its entry is delivered twice; sms:delivered moves it to delivered, and
// a late sms:sent after it never moves it back.
func TestAndroidAnswerOnceThenDelivered(t *testing.T) {
	a := newAnswerRig(t)
	if code := a.post(t, event(t, "in-1", "081234567801", "Pohon tumbang menutup jalan di Jl. Kenanga.")); code != http.StatusOK {
		t.Fatalf("inbound: %d", code)
	}
	recs := a.g.Records(t)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	const text = "Terima kasih, petugas sedang menuju lokasi."
	b, _ := json.Marshal(map[string]any{"id": "ans-a1", "reference": recs[0].Reference, "text": text})
	entry, err := a.store.Add(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	for n := int64(1); n <= 2; n++ { // the entry is delivered again
		if err := a.worker.Handle(context.Background(), entry, map[string]string{"message": string(b)}, n); err != nil {
			t.Fatal(err)
		}
	}
	sent := a.phone.messages()
	if len(sent) != 1 || sent[0].To != "+6281234567801" || sent[0].Text != text {
		t.Fatalf("the phone was asked to send %+v, want one answer to the citizen", sent)
	}
	ds := a.deliveries(t, "ans-a1")
	if len(ds) != 1 || ds[0].State != outbound.StateAccepted || ds[0].Provider != "android" || !strings.HasPrefix(ds[0].ProviderMessageID, "out-") {
		t.Fatalf("deliveries %+v", ds)
	}
	pmid := ds[0].ProviderMessageID
	for i, body := range [][]byte{
		report(android.EventFailed, "r0", "not-ours"), // another system's SMS: counted, not an error
		report(android.EventDelivered, "r1", pmid),
		report(android.EventSent, "r2", pmid), // late, out of order
		report(android.EventFailed, "r3", pmid),
	} {
		if code := a.post(t, body); code != http.StatusOK {
			t.Fatalf("report %d: %d", i, code)
		}
	}
	var states []string
	for _, d := range a.deliveries(t, "ans-a1") {
		states = append(states, string(d.State))
	}
	if strings.Join(states, ",") != "accepted,delivered" {
		t.Fatalf("states %v, want accepted,delivered", states)
	}
	if len(a.g.Records(t)) != 1 {
		t.Fatal("a delivery report became a complaint")
	}
}

// A 5xx from the send API may have sent the SMS: unknown, never sent again. A failed
// report carries the phone's reason.
func TestAndroidAnswerAfterA5xxIsUnknown(t *testing.T) {
	a := newAnswerRig(t)
	if code := a.post(t, event(t, "in-2", "081234567802", "Saluran air mampet di gang 3.")); code != http.StatusOK {
		t.Fatalf("inbound: %d", code)
	}
	recs := a.g.Records(t)
	a.phone.mu.Lock()
	a.phone.fails = 1 // 503 first: ambiguous, so not sent again
	a.phone.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"id": "ans-a2", "complaint_id": recs[0].ID, "text": "Segera ditangani."})
	entry, _ := a.store.Add(context.Background(), b)
	if err := a.worker.Handle(context.Background(), entry, map[string]string{"message": string(b)}, 1); err != nil {
		t.Fatal(err)
	}
	ds := a.deliveries(t, "ans-a2")
	if len(ds) != 1 || ds[0].State != outbound.StateUnknown || len(a.phone.messages()) != 0 {
		t.Fatalf("after a 503: deliveries %+v, sent %v", ds, a.phone.messages())
	}

	b, _ = json.Marshal(map[string]any{"id": "ans-a3", "complaint_id": recs[0].ID, "text": "Segera ditangani."})
	entry, _ = a.store.Add(context.Background(), b)
	if err := a.worker.Handle(context.Background(), entry, map[string]string{"message": string(b)}, 1); err != nil {
		t.Fatal(err)
	}
	ds = a.deliveries(t, "ans-a3")
	if len(ds) != 1 || ds[0].State != outbound.StateAccepted {
		t.Fatalf("deliveries %+v", ds)
	}
	if code := a.post(t, report(android.EventFailed, "r4", ds[0].ProviderMessageID)); code != http.StatusOK {
		t.Fatalf("report: %d", code)
	}
	ds = a.deliveries(t, "ans-a3")
	if len(ds) != 2 || ds[1].State != outbound.StateFailed || !strings.Contains(ds[1].Error.Detail, "RESULT_ERROR_GENERIC_FAILURE") {
		t.Fatalf("deliveries %+v", ds)
	}
}
