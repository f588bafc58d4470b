package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/redis/go-redis/v9"

	"github.com/lapor/intake/channels/android"
	"github.com/lapor/intake/channels/smpp"
	"github.com/lapor/intake/channels/smpp/smsctest"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/outbound"
)

// smsGateway is the whole binary serving with env, on the test's Redis and streams.
type smsGateway struct {
	public string
	env    map[string]string
	rdb    *redis.Client
	logs   *testenv.LogBuffer
}

func startSMSGateway(t *testing.T, extra map[string]string) *smsGateway {
	t.Helper()
	redisAddr := testenv.RedisAddr(t)
	prefix := strings.ReplaceAll(testenv.Prefix(t), ":", "-")
	dir := t.TempDir()
	port := strconv.Itoa(testenv.FreePort(t))
	g := &smsGateway{public: "http://127.0.0.1:" + port, env: map[string]string{
		"INTAKE_REDIS_URL": "redis://" + redisAddr + "/0", "INTAKE_HTTP_ADDR": "127.0.0.1:" + port,
		"INTAKE_STREAM": prefix + "complaints", "INTAKE_REJECTED_STREAM": prefix + "rejected",
		"INTAKE_OUTBOUND_STREAM": prefix + "outbound", "INTAKE_DELIVERY_STREAM": prefix + "delivery",
		"INTAKE_SPOOL_DIR": filepath.Join(dir, "spool"), "INTAKE_MEDIA_DIR": filepath.Join(dir, "media"),
		"INTAKE_PUBLIC_URL": "http://127.0.0.1:" + port, "INTAKE_RECEIPTS": "off",
	}}
	for k, v := range extra {
		g.env[k] = v
	}
	g.rdb = redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { // runs after the gateway stopped
		g.rdb.Close()
		if g.logs != nil && (strings.Contains(g.logs.String(), "+6281234567") || strings.Contains(g.logs.String(), "petugas")) {
			t.Error("the logs carry a phone number or a text")
		}
	})
	g.logs = serveFromEnv(t, g.env)
	return g
}

// complaint waits for the one record on the complaints stream.
func (g *smsGateway) complaint(t *testing.T) (id, reference string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		recs, err := g.rdb.XRange(context.Background(), g.env["INTAKE_STREAM"], "-", "+").Result()
		if err == nil && len(recs) == 1 {
			var c struct{ ID, Reference string }
			_ = json.Unmarshal([]byte(recs[0].Values["complaint"].(string)), &c)
			return c.ID, c.Reference
		}
		if time.Now().After(deadline) {
			t.Fatalf("complaints: %v %v", recs, err)
		}
	}
}

// reply is `intake reply REF TEXT`; it returns the outbound id.
func (g *smsGateway) reply(t *testing.T, reference, text string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"reply", reference, text}, &out, &errb); code != 0 {
		t.Fatalf("reply: %d %s", code, errb.String())
	}
	return strings.TrimSpace(out.String())
}

func (g *smsGateway) deliveries() []outbound.Delivery {
	msgs, _ := g.rdb.XRange(context.Background(), g.env["INTAKE_DELIVERY_STREAM"], "-", "+").Result()
	var ds []outbound.Delivery
	for _, m := range msgs {
		var d outbound.Delivery
		_ = json.Unmarshal([]byte(m.Values["delivery"].(string)), &d)
		ds = append(ds, d)
	}
	return ds
}

// waitStates waits until the delivery entries' states are want (comma-separated).
func (g *smsGateway) waitStates(t *testing.T, want string) []outbound.Delivery {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ds := g.deliveries()
		var states []string
		for _, d := range ds {
			states = append(states, string(d.State))
		}
		if strings.Join(states, ",") == want {
			return ds
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery states %v, want %s", states, want)
		}
	}
}

// The return path for an SMS that came through SMS Gateway for Android, through the
// whole binary: the signed sms:received becomes a complaint, `intake reply` an answer the
// phone's send API is asked for once, and the phone's signed sms:delivered (then a late
// sms:sent) moves it to delivered, never back.
func TestAnswerToAnAndroidSMSEndToEnd(t *testing.T) {
	const key, user, pass = "e2e-android-signing-key", "sms", "e2e-android-password"
	var mu sync.Mutex
	var sends []map[string]any
	phone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass || r.URL.Path != "/message" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var b map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		mu.Lock()
		sends = append(sends, b)
		n := len(sends)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"id":"phone-msg-%d","state":"Pending"}`, n)
	}))
	defer phone.Close()
	g := startSMSGateway(t, map[string]string{"INTAKE_ANDROID_SMS_SIGNING_KEY": key, "INTAKE_ANDROID_SMS_API_URL": phone.URL,
		"INTAKE_ANDROID_SMS_USERNAME": user, "INTAKE_ANDROID_SMS_PASSWORD": pass})
	post := func(body []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, g.public+android.Path, bytes.NewReader(body))
		ts := android.Timestamp(time.Now())
		req.Header.Set(android.TimestampHeader, ts)
		req.Header.Set(android.SignatureHeader, android.Sign(key, body, ts))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook: %d", resp.StatusCode)
		}
	}

	in, err := android.SampleEvent("Lampu jalan di Jl. Merdeka mati sejak seminggu.", android.Sample{DeviceID: "e2e-device", EventID: "e2e-in-1", From: "081234567812"})
	if err != nil {
		t.Fatal(err)
	}
	post(in)
	complaintID, reference := g.complaint(t)
	outID := g.reply(t, reference, "Terima kasih, petugas menuju lokasi.")
	accepted := g.waitStates(t, "accepted")[0]
	mu.Lock()
	got := append([]map[string]any(nil), sends...)
	mu.Unlock()
	if len(got) != 1 || fmt.Sprint(got[0]["phoneNumbers"]) != "[+6281234567812]" ||
		fmt.Sprint(got[0]["textMessage"]) != "map[text:Terima kasih, petugas menuju lokasi.]" {
		t.Fatalf("the phone was asked %v", got)
	}
	if accepted.OutboundID != outID || accepted.ComplaintID != complaintID || accepted.Provider != "android" ||
		accepted.Channel != "sms" || accepted.ProviderMessageID != "phone-msg-1" {
		t.Fatalf("accepted entry %+v", accepted)
	}
	for i, ev := range []string{android.EventDelivered, android.EventSent} {
		b, _ := json.Marshal(map[string]any{"deviceId": "e2e-device", "event": ev, "id": fmt.Sprintf("e2e-report-%d", i),
			"payload": map[string]any{"messageId": "phone-msg-1", "phoneNumber": "+6281234567812"}})
		post(b)
	}
	g.waitStates(t, "accepted,delivered")
}

// The return path for an SMS from an operator's SMSC, through the whole binary: the
// deliver_sm becomes a complaint, `intake reply` one submit_sm from the short code with a
// receipt requested, and the SMSC's DELIVRD receipt moves it to delivered.
func TestAnswerToAnSMPPSMSEndToEnd(t *testing.T) {
	srv, err := smsctest.Start("127.0.0.1:0", smsctest.Options{SystemID: "lapor", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	g := startSMSGateway(t, map[string]string{"INTAKE_SMPP_ADDR": srv.Addr, "INTAKE_SMPP_SYSTEM_ID": "lapor",
		"INTAKE_SMPP_PASSWORD": "secret", "INTAKE_SMPP_SOURCE_ADDR": "1708"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := srv.WaitBound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in := smpp.SampleDeliverSMs("Jalan berlubang di depan SDN 3, mohon diperbaiki.", smpp.Sample{From: "6281234567813", To: "1708"})[0]
	if st, err := conn.DeliverWait(ctx, in); err != nil || st != data.ESME_ROK {
		t.Fatalf("deliver_sm: %v %v", st, err)
	}
	complaintID, reference := g.complaint(t)
	outID := g.reply(t, reference, "Terima kasih, petugas menuju lokasi.")
	sm, err := srv.Submitted(ctx)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := sm.Message.GetMessage()
	if text != "Terima kasih, petugas menuju lokasi." || sm.SourceAddr.Address() != "1708" || sm.DestAddr.Address() != "6281234567813" || sm.RegisteredDelivery != 1 {
		t.Fatalf("submit_sm %q from %s to %s", text, sm.SourceAddr.Address(), sm.DestAddr.Address())
	}
	accepted := g.waitStates(t, "accepted")[0]
	ids := srv.MessageIDs()
	if len(ids) != 1 || accepted.OutboundID != outID || accepted.ComplaintID != complaintID || accepted.Provider != "smpp" ||
		accepted.ProviderMessageID != ids[0] {
		t.Fatalf("accepted entry %+v; SMSC ids %v", accepted, ids)
	}
	dlr := smpp.SampleDeliverSMs("id:"+ids[0]+" sub:001 dlvrd:001 submit date:2612050930 done date:2612050931 stat:DELIVRD err:000 text:Terima",
		smpp.Sample{From: "6281234567813", To: "1708"})[0]
	dlr.EsmClass = 0x04
	if st, err := conn.DeliverWait(ctx, dlr); err != nil || st != data.ESME_ROK {
		t.Fatalf("receipt: %v %v", st, err)
	}
	g.waitStates(t, "accepted,delivered")
	if srv.SubmitCount() != 1 {
		t.Errorf("%d submit_sm, want 1", srv.SubmitCount())
	}
}

// Issue 11's demonstration: `intake simulate sms --smpp --answers` plays the operator's
// SMSC for a running gateway, and `intake simulate answer REF TEXT` shows the answer
// reaching it and its DELIVRD receipt coming back as the delivered state.
func TestSimulateAnswerThroughTheStandInSMSC(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	smscCtx, stopSMSC := context.WithCancel(context.Background())
	var smscOut testenv.LogBuffer
	smscDone := make(chan error, 1)
	go func() {
		smscDone <- simulateCmd(smscCtx, []string{"sms", "--smpp", "--answers", "--smsc-addr", addr, "--system-id", "intake",
			"--password", "dev", "--wait", "30s", "--from", "+6281234567814",
			// A text of its own: the same text again within 10 minutes is one message (CONTRACT §6).
			"Lampu jalan mati di gang " + strconv.FormatInt(time.Now().UnixNano(), 36)}, &smscOut, io.Discard)
	}()
	g := startSMSGateway(t, map[string]string{"INTAKE_SMPP_ADDR": addr, "INTAKE_SMPP_SYSTEM_ID": "intake",
		"INTAKE_SMPP_PASSWORD": "dev", "INTAKE_SMPP_SOURCE_ADDR": "1708", "INTAKE_RECEIPTS": "on"})
	_, reference := g.complaint(t)

	var out, errb bytes.Buffer
	if err := simulateCmd(context.Background(), []string{"answer", "--wait", "20s", reference, "Petugas sudah memperbaiki lampu."}, &out, &errb); err != nil {
		t.Fatalf("simulate answer: %v\n%s", err, errb.String())
	}
	// The gateway records "delivered" before it answers the receipt's deliver_sm, so the
	// stand-in prints its line a moment after `simulate answer` has seen the state.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(smscOut.String(), "delivery receipt DELIVRD for msg-") {
			break
		}
	}
	stopSMSC()
	if err := <-smscDone; err != nil {
		t.Fatalf("simulate sms --smpp: %v", err)
	}
	got := out.String()
	if !strings.Contains(got, "delivered sms/smpp") {
		t.Errorf("simulate answer printed:\n%s\nthe SMSC:\n%s", got, smscOut.String())
	}
	smsc := smscOut.String()
	for _, want := range []string{"receipt by submit_sm:", "answer by submit_sm from 1708 to 6281234567814", "receipt requested: true): Petugas sudah memperbaiki lampu.",
		"delivery receipt DELIVRD for msg-"} {
		if !strings.Contains(smsc, want) {
			t.Errorf("the stand-in SMSC printed no %q:\n%s", want, smsc)
		}
	}
}
