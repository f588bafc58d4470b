package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/channels/twilio/twiliotest"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/outbound"
)

// The return path through the whole binary: an SMS comes in on the Twilio webhook,
// `intake reply` puts an answer on the outbound stream, the Twilio stand-in receives
// exactly one send from the number the citizen wrote to, and Twilio's signed status
// callbacks (one late and out of order) move the delivery to delivered, never back.
func TestAnswerToAnSMSEndToEnd(t *testing.T) {
	api := twiliotest.New(t)
	redisAddr := testenv.RedisAddr(t)
	prefix := strings.ReplaceAll(testenv.Prefix(t), ":", "-")
	dir := t.TempDir()
	port := strconv.Itoa(testenv.FreePort(t))
	public := "http://127.0.0.1:" + port
	const token = "e2etwiliotoken0123456789abcdef00"
	env := map[string]string{
		"INTAKE_REDIS_URL": "redis://" + redisAddr + "/0", "INTAKE_HTTP_ADDR": "127.0.0.1:" + port,
		"INTAKE_STREAM": prefix + "complaints", "INTAKE_REJECTED_STREAM": prefix + "rejected",
		"INTAKE_OUTBOUND_STREAM": prefix + "outbound", "INTAKE_DELIVERY_STREAM": prefix + "delivery",
		"INTAKE_SPOOL_DIR": filepath.Join(dir, "spool"), "INTAKE_MEDIA_DIR": filepath.Join(dir, "media"),
		"INTAKE_PUBLIC_URL": public, "INTAKE_RECEIPTS": "off",
		"INTAKE_TWILIO_AUTH_TOKEN": token, "INTAKE_TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000001",
		"INTAKE_TWILIO_API_URL": api.URL,
	}
	logs := serveFromEnv(t, env)
	postSigned := func(path string, form url.Values) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, public+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", twilio.Sign(token, public+path, form))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// 1. The citizen's SMS.
	in := url.Values{"MessageSid": {"SM" + strconv.FormatInt(time.Now().UnixNano(), 16)}, "AccountSid": {env["INTAKE_TWILIO_ACCOUNT_SID"]},
		"From": {"+6281234567811"}, "To": {"+15005550006"}, "Body": {"Lampu jalan di Jl. Merdeka mati sejak seminggu."}, "NumMedia": {"0"}}
	if code := postSigned(twilio.Path, in); code != http.StatusOK {
		t.Fatalf("inbound SMS: %d\n%s", code, logs.String())
	}
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	recs, err := rdb.XRange(context.Background(), env["INTAKE_STREAM"], "-", "+").Result()
	if err != nil || len(recs) != 1 {
		t.Fatalf("complaints: %v %v", recs, err)
	}
	var complaint struct{ ID, Reference string }
	_ = json.Unmarshal([]byte(recs[0].Values["complaint"].(string)), &complaint)

	// 2. The core's answer, by reference.
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"reply", complaint.Reference, "Terima kasih, petugas menuju lokasi."}, &out, &errb); code != 0 {
		t.Fatalf("reply: %d %s", code, errb.String())
	}
	outID := strings.TrimSpace(out.String())

	// 3. The stand-in gets one send, from the number the citizen wrote to.
	deliveries := func() []outbound.Delivery {
		msgs, _ := rdb.XRange(context.Background(), env["INTAKE_DELIVERY_STREAM"], "-", "+").Result()
		var ds []outbound.Delivery
		for _, m := range msgs {
			var d outbound.Delivery
			_ = json.Unmarshal([]byte(m.Values["delivery"].(string)), &d)
			ds = append(ds, d)
		}
		return ds
	}
	for deadline := time.Now().Add(20 * time.Second); len(deliveries()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no delivery entry; logs:\n%s", logs.String())
		}
	}
	sends := api.Sends()
	if len(sends) != 1 {
		t.Fatalf("%d sends; deliveries %+v\n%s", len(sends), deliveries(), logs.String())
	}
	s := sends[0]
	if s.Get("To") != "+6281234567811" || s.Get("From") != "+15005550006" || s.Get("Body") != "Terima kasih, petugas menuju lokasi." ||
		s.Get("StatusCallback") != public+twilio.StatusPath+"?o="+outID {
		t.Fatalf("send %v", s)
	}
	accepted := deliveries()[0]
	if accepted.State != outbound.StateAccepted || accepted.OutboundID != outID || accepted.ComplaintID != complaint.ID ||
		accepted.Channel != "sms" || accepted.Provider != "twilio" || accepted.ProviderMessageID == "" {
		t.Fatalf("accepted entry %+v", accepted)
	}

	// 4. Twilio's callbacks: delivered, then a late "sent".
	cbPath := twilio.StatusPath + "?o=" + url.QueryEscape(outID)
	for _, st := range []string{"delivered", "sent"} {
		cb := url.Values{"MessageSid": {accepted.ProviderMessageID}, "MessageStatus": {st}, "AccountSid": {env["INTAKE_TWILIO_ACCOUNT_SID"]},
			"From": {"+15005550006"}, "To": {"+6281234567811"}}
		if code := postSigned(cbPath, cb); code != http.StatusNoContent {
			t.Fatalf("callback %s: %d", st, code)
		}
	}
	var states []string
	for _, d := range deliveries() {
		states = append(states, string(d.State))
	}
	if strings.Join(states, ",") != "accepted,delivered" {
		t.Errorf("delivery states %v, want accepted,delivered", states)
	}
	if len(api.Sends()) != 1 {
		t.Errorf("%d sends, want 1", len(api.Sends()))
	}
	// The operator's view.
	tctx, stop := context.WithTimeout(context.Background(), 2*time.Second)
	defer stop()
	var tail bytes.Buffer
	run(tctx, []string{"tail", "--delivery", "--all"}, &tail, &errb)
	if !strings.Contains(tail.String(), "delivered") || !strings.Contains(tail.String(), outID) {
		t.Errorf("tail --delivery:\n%s", tail.String())
	}
	if strings.Contains(logs.String(), "Lampu jalan") || strings.Contains(logs.String(), "petugas menuju") {
		t.Error("the logs carry message text")
	}
}
