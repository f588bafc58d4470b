package android_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/android"
	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/record"
)

// post sends a signed body to the channel's handler on a ServeMux, without the gateway.
func post(t *testing.T, mux channelstest.Mux, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, android.Path, bytes.NewReader(body))
	ts := android.Timestamp(time.Now())
	req.Header.Set(android.TimestampHeader, ts)
	req.Header.Set(android.SignatureHeader, android.Sign(key, body, ts))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	return w
}

func mounted(t *testing.T, sink channels.Sink, phone *phoneAPI) (channelstest.Mux, *android.Channel) {
	ch, err := android.New(android.Config{SigningKey: key, APIURL: phone.URL, Username: apiUser, Password: apiPass},
		sink, android.Options{Receipts: channels.Receipts{Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	mux := channelstest.NewMux()
	ch.Routes(mux)
	return mux, ch
}

// TestUnavailableStoreAnswers503: the phone retries an event the gateway could not store,
// and no receipt goes out for it.
func TestUnavailableStoreAnswers503(t *testing.T) {
	phone := newPhoneAPI(t)
	sink := channelstest.NewSink()
	sink.Err = channels.ErrUnavailable
	mux, ch := mounted(t, sink, phone)
	if w := post(t, mux, event(t, "down-1", "+6281234567831", "Jalan rusak")); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503: %s", w.Code, w.Body)
	}
	sink.Err = nil
	if w := post(t, mux, event(t, "down-1", "+6281234567831", "Jalan rusak")); w.Code != http.StatusOK {
		t.Fatalf("the retry: status %d, want 200", w.Code)
	}
	flush(t, ch)
	if n := len(sink.Accepted()); n != 1 {
		t.Errorf("%d messages stored, want 1", n)
	}
	if n := len(phone.messages()); n != 1 {
		t.Errorf("%d receipts, want 1: only for the stored message", n)
	}
}

// TestBlockedSenderGetsNoReceipt: a message the store rejected (a blocked sender) gets
// its 200 and no receipt.
func TestBlockedSenderGetsNoReceipt(t *testing.T) {
	phone := newPhoneAPI(t)
	sink := channelstest.NewSink()
	sink.Rejection = &record.Rejection{Reason: record.ReasonBlockedSender}
	mux, ch := mounted(t, sink, phone)
	if w := post(t, mux, event(t, "blocked-1", "+6281234567841", "spam")); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	flush(t, ch)
	if n := len(phone.messages()); n != 0 {
		t.Errorf("%d receipts to a blocked sender", n)
	}
}

func TestNoReceiptForAnOperatorSenderID(t *testing.T) {
	phone := newPhoneAPI(t)
	sink := channelstest.NewSink()
	mux, ch := mounted(t, sink, phone)
	if w := post(t, mux, event(t, "op-1", "TELKOMSEL", "Sisa kuota Anda 1 GB")); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	flush(t, ch)
	if n, m := len(phone.messages()), len(sink.Accepted()); n != 0 || m != 1 {
		t.Errorf("%d receipts, %d records: want the message stored and nothing sent to a sender id", n, m)
	}
}

// TestCloseGivesUpWhenShutdownRunsOut: a phone that never answers cannot hold the
// gateway's shutdown; every receipt left is counted as failed or dropped.
func TestCloseGivesUpWhenShutdownRunsOut(t *testing.T) {
	release := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer stuck.Close()
	defer close(release)
	sink := channelstest.NewSink()
	ch, err := android.New(android.Config{SigningKey: key, APIURL: stuck.URL, Username: apiUser, Password: apiPass},
		sink, android.Options{Receipts: channels.Receipts{Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	mux := channelstest.NewMux()
	ch.Routes(mux)
	for _, id := range []string{"stuck-1", "stuck-2", "stuck-3"} {
		if w := post(t, mux, event(t, id, "+62812345678"+id[len(id)-1:]+"1", "Lampu mati")); w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := ch.Close(ctx); err == nil || !strings.Contains(err.Error(), "shutdown came before every receipt was sent") {
		t.Fatalf("Close = %v, want the shutdown to give up on the stuck phone", err)
	}
	if n := sink.EventCount("android_receipt_failed") + sink.EventCount("android_receipt_dropped"); n != 3 {
		t.Errorf("%d receipts counted as failed or dropped, want 3", n)
	}
}
