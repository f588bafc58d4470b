package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/lapor/intake/channels/android"
	"github.com/lapor/intake/channels/api"
	"github.com/lapor/intake/channels/email"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/channels/whatsapp"
	"github.com/lapor/intake/config"
)

const defaultGateway = "http://127.0.0.1:8080"

// simulators send one correctly signed sample message per channel.
var simulators = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"sms":      simulateSMS,
	"api":      simulateAPI,
	"whatsapp": simulateWhatsApp,
	"email":    simulateEmail,
	"answer":   simulateAnswer, // the return path: an answer to a complaint, followed to its receipt
}

func simulateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || simulators[args[0]] == nil {
		return fmt.Errorf("simulate needs a channel: %s", strings.Join(simulatorNames(), ", "))
	}
	return simulators[args[0]](ctx, args[1:], stdout, stderr)
}

func simulatorNames() []string {
	var names []string
	for _, n := range []string{"sms", "whatsapp", "email", "api", "answer"} {
		if simulators[n] != nil {
			names = append(names, n)
		}
	}
	return names
}

// envOr returns the environment variable k, or def.
func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// sampleText is the message when none is given on the command line.
const sampleText = "Jalan rusak parah di depan SDN 3 Sukamaju, lubangnya dalam dan sudah dua motor jatuh. Mohon segera diperbaiki. RT 04/RW 07"

func simulateSMS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate sms", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gw := fs.String("url", envOr("INTAKE_PUBLIC_URL", defaultGateway), "the gateway's public base URL (signatures are computed for it)")
	token := fs.String("token", envOr("INTAKE_TWILIO_AUTH_TOKEN", twilio.DevAuthToken), "Twilio auth token to sign with")
	from := fs.String("from", "+6281234567801", "sender number")
	to := fs.String("to", "+6281190001708", "number written to")
	sid := fs.String("sid", "", "MessageSid, or the Android event id (random when empty; repeat one to see deduplication)")
	viaAndroid := fs.Bool("android", false, "post as SMS Gateway for Android (capcom6) to "+android.Path+" instead of as Twilio")
	key := fs.String("key", envOr("INTAKE_ANDROID_SMS_SIGNING_KEY", android.DevSigningKey), "with --android: the signing key to sign with")
	viaSMPP := smppFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	text := strings.Join(fs.Args(), " ")
	if text == "" {
		text = sampleText
	}
	if *viaAndroid {
		return simulateAndroidSMS(ctx, strings.TrimRight(*gw, "/")+android.Path, *key, *from, *sid, text, stdout)
	}
	if viaSMPP.on {
		return simulateSMPP(ctx, fs, viaSMPP, *from, *to, text, stdout)
	}
	if *sid == "" {
		*sid = "SM" + randomHex(16)
	}
	form := twilio.SampleForm(text, twilio.Sample{MessageID: *sid, From: *from, To: *to})
	target := strings.TrimRight(*gw, "/") + twilio.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Sign(*token, target, form))
	body, err := send(req)
	if err != nil {
		return err
	}
	var doc struct {
		Messages []string `xml:"Message"`
	}
	_ = xml.Unmarshal(body, &doc)
	fmt.Fprintf(stdout, "sent SMS %s\n", *sid)
	if ref := findReference(strings.Join(doc.Messages, " ")); ref != "" {
		fmt.Fprintf(stdout, "reference: %s\n", ref)
	}
	for _, m := range doc.Messages {
		fmt.Fprintf(stdout, "receipt: %s\n", m)
	}
	return nil
}

// simulateAndroidSMS posts an sms:received event to target, signed as the phone signs it.
func simulateAndroidSMS(ctx context.Context, target, key, from, eventID, text string, stdout io.Writer) error {
	if eventID == "" {
		eventID = randomHex(11)
	}
	body, err := android.SampleEvent(text, android.Sample{DeviceID: "intake-simulate", EventID: eventID, From: from})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts := android.Timestamp(time.Now())
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(android.TimestampHeader, ts)
	req.Header.Set(android.SignatureHeader, android.Sign(key, body, ts))
	answer, err := send(req)
	if err != nil {
		return err
	}
	var doc struct {
		Reference string `json:"reference"`
	}
	_ = json.Unmarshal(answer, &doc)
	fmt.Fprintf(stdout, "sent Android SMS event %s\n", eventID)
	if doc.Reference != "" {
		fmt.Fprintf(stdout, "reference: %s\n", doc.Reference)
	}
	return nil
}

// send performs req and returns the body of a 2xx answer, or an error that says what the
// gateway answered.
func send(req *http.Request) ([]byte, error) {
	cl := &http.Client{Timeout: 30 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the gateway at %s: %w (is `intake serve` running?)", req.URL.Host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return body, fmt.Errorf("the gateway answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// findReference returns the first reference-shaped code in s.
func findReference(s string) string {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '.' || r == ',' || r == ':' }) {
		if len(f) == 9 && f[4] == '-' {
			return f
		}
	}
	return ""
}

func simulateAPI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gw := fs.String("url", envOr("INTAKE_PUBLIC_URL", defaultGateway), "the gateway's base URL")
	key := fs.String("key", api.DevKey, "API key (the secret part of one INTAKE_API_KEYS entry)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	text := strings.Join(fs.Args(), " ")
	if text == "" {
		text = sampleText
	}
	req, err := api.NewSampleRequest(ctx, *gw, *key, text)
	if err != nil {
		return err
	}
	body, err := send(req)
	if err != nil {
		return err
	}
	var ans api.Answer
	if err := json.Unmarshal(body, &ans); err != nil {
		return fmt.Errorf("the gateway's answer is not JSON: %s", body)
	}
	fmt.Fprintf(stdout, "sent complaint with Idempotency-Key %s\nid: %s\nreference: %s\n", req.Header.Get("Idempotency-Key"), ans.ID, ans.Reference)
	return nil
}

func simulateWhatsApp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate whatsapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gw := fs.String("url", envOr("INTAKE_PUBLIC_URL", defaultGateway), "the gateway's base URL")
	secret := fs.String("secret", envOr("INTAKE_WHATSAPP_APP_SECRET", whatsapp.DevAppSecret), "Meta app secret to sign with")
	kind := fs.String("kind", "text", "message kind: "+strings.Join(whatsapp.SampleKinds, ", "))
	from := fs.String("from", "6281234567890", "the citizen's WhatsApp id (phone digits without +)")
	wamid := fs.String("wamid", "", "message id (new when empty; repeat one to see deduplication)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	text := strings.Join(fs.Args(), " ")
	if text == "" && *kind == "text" {
		text = sampleText
	}
	body, err := whatsapp.SamplePayload(*kind, text, whatsapp.Sample{From: *from, MessageID: *wamid})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(*gw, "/")+whatsapp.Path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(*secret, body))
	if _, err := send(req); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sent WhatsApp %s message; the reference goes back to the citizen as a WhatsApp receipt (run `intake tail` to see the record)\n", *kind)
	return nil
}

// simulateEmail APPENDs a sample complaint to the configured mailbox (INTAKE_IMAP_* or the
// YAML file's first mailbox), where the running gateway picks it up.
func simulateEmail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate email", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file (or INTAKE_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.FromEnvironment(*configPath)
	if err != nil {
		return err
	}
	boxes := cfg.Email.All()
	if len(boxes) == 0 {
		return errors.New("no mailbox is configured: set INTAKE_IMAP_ADDR, INTAKE_IMAP_USERNAME and INTAKE_IMAP_PASSWORD (email has no development mode: it needs a real IMAP server)")
	}
	if err := email.AppendSample(ctx, boxes[0], email.SampleMail(strings.Join(fs.Args(), " "))); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "appended a sample complaint to %s on %s; the gateway takes it in through IDLE or its next poll (run `intake tail` to see it)\n", boxes[0].Mailbox, boxes[0].Addr)
	return nil
}
