package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/lapor/intake/channels/email"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

const autoReplyMail = "From: Budi Santoso <budi.santoso@example.co.id>\r\n" +
	"To: pengaduan@lapor.go.id\r\n" +
	"Subject: Re: Jalan rusak di Jl. Merdeka\r\n" +
	"Message-ID: <release-1@example.co.id>\r\n" +
	"Date: Tue, 04 Mar 2025 10:15:00 +0700\r\n" +
	"Auto-Submitted: auto-replied\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Jalan di depan SD Negeri 3 masih berlubang dan belum diperbaiki.\r\n"

// Issue item 10, CONTRACT §10: an input rejected as an auto-reply is listed with its stream
// id, and releasing it (twice) makes exactly one complaint flagged "released".
func TestRejectedListAndReleaseOnce(t *testing.T) {
	addr, _ := testenv.StartRedis(t) // private: the release keys carry no test prefix
	g := gatewaytest.Start(t, gatewaytest.Options{RedisAddr: addr})
	ctx := context.Background()
	m, err := email.Decode([]byte(autoReplyMail), email.DecodeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := g.Sink.Accept(ctx, m)
	if err != nil || out.Rejection == nil || out.Rejection.Reason != record.ReasonAutoReply {
		t.Fatalf("the auto-reply was not rejected as one: %+v, %v", out, err)
	}
	entries, err := g.Redis.XRange(ctx, g.QueueCfg.RejectedStream, "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("rejected stream: %v, %v", entries, err)
	}
	entryID := entries[0].ID
	cli := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args = append(args, "--redis", "redis://"+addr+"/0", "--stream", g.QueueCfg.Stream, "--rejected-stream", g.QueueCfg.RejectedStream)
		// Flags go before the entry id.
		if args[1] == "release" {
			args = append(append([]string{args[0], args[1]}, args[3:]...), args[2])
		}
		if code := run(ctx, args, &stdout, &stderr); code != 0 {
			t.Fatalf("intake %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
		return stdout.String()
	}

	list := cli("rejected", "list", "--reason", "auto_reply")
	if !strings.Contains(list, entryID) || !strings.Contains(list, "auto_reply") || !strings.Contains(list, "release-1@example.co.id") {
		t.Errorf("list does not show the entry %s:\n%s", entryID, list)
	}
	if strings.Contains(list, "berlubang") {
		t.Errorf("list prints the raw payload without --verbose:\n%s", list)
	}
	if other := cli("rejected", "list", "--reason", "bounce"); strings.Contains(other, entryID) {
		t.Errorf("--reason bounce lists the auto-reply:\n%s", other)
	}

	first := cli("rejected", "release", entryID)
	second := cli("rejected", "release", entryID)
	if !strings.Contains(first, "released as") || !strings.Contains(second, "already released") {
		t.Errorf("release answers %q then %q", first, second)
	}
	recs := g.Records(t)
	if len(recs) != 1 {
		t.Fatalf("complaint stream holds %d records after two releases, want 1", len(recs))
	}
	c := recs[0]
	if !c.HasFlag("released") || c.Channel != record.ChannelEmail || c.ProviderMessageID != "release-1@example.co.id" ||
		!strings.Contains(c.Body, "berlubang") || c.Reference == "" {
		t.Errorf("released record %+v", c)
	}
	if !strings.Contains(first, c.ID) || !strings.Contains(second, c.ID) {
		t.Errorf("release answers %q, %q; want the record id %s in both", first, second, c.ID)
	}
	gatewaytest.ValidateRecord(t, c)
	if l := cli("rejected", "list"); !strings.Contains(l, "released as "+c.ID) {
		t.Errorf("list does not say the entry was released:\n%s", l)
	}
}

// A payload its channel cannot decode is still released: the raw text becomes the body,
// the channel and provider ids are kept, and the operator is told.
func TestReleaseOfAnUndecodablePayloadKeepsTheRawText(t *testing.T) {
	n := newTestNormalizer(t)
	var stderr bytes.Buffer
	r := releaser{norm: n, stderr: &stderr}
	c, note := r.complaint(queue.RejectedEntry{StreamID: "1-0", Reason: record.ReasonUnparseable, Channel: record.ChannelWhatsApp,
		Provider: record.ProviderMeta, ProviderMessageID: "wamid.X", Raw: []byte("{not json: Jalan rusak"), ReceivedAt: "2025-03-04T03:15:00Z"})
	if !strings.Contains(note, "could not be decoded") {
		t.Errorf("note %q does not say the payload was not decoded", note)
	}
	if c.Body != "{not json: Jalan rusak" || c.Channel != record.ChannelWhatsApp || c.ProviderMessageID != "wamid.X" ||
		c.ReceivedAt != "2025-03-04T03:15:00Z" || c.ChannelData["released_from"] != "1-0" {
		t.Errorf("complaint %+v", c)
	}
}

func newTestNormalizer(t *testing.T) *normalizer.Normalizer {
	t.Helper()
	n, err := normalizer.New(normalizer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
