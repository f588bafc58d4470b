package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/media"
	"github.com/lapor/intake/metrics"
	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/record"
)

// fakeQueue is an in-memory queue for this package's unit tests (the real one is tested
// against redis-server in package queue and end to end in the channels).
type fakeQueue struct {
	published, staged []*record.Complaint
	rejected          []*record.Rejection
	result            record.Stored
	err               error
}

func (f *fakeQueue) Publish(_ context.Context, c *record.Complaint) (record.Stored, error) {
	f.published = append(f.published, c)
	return f.result, f.err
}
func (f *fakeQueue) Stage(_ context.Context, c *record.Complaint) (record.Stored, error) {
	f.staged = append(f.staged, c)
	return f.result, f.err
}
func (f *fakeQueue) Reject(_ context.Context, r *record.Rejection) error {
	f.rejected = append(f.rejected, r)
	return f.err
}

func newPipeline(t *testing.T, q *fakeQueue, fetch map[string]bool) *Pipeline {
	t.Helper()
	norm, err := normalizer.New(normalizer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := media.NewStore(t.TempDir(), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.FixedZone("WIB", 7*3600))
	return New(Options{Normalizer: norm, Queue: q, Media: store, PublicURL: "https://intake.example.go.id/",
		FetchProviders: fetch, Metrics: metrics.New(nil), Now: func() time.Time { return now }})
}

func TestAcceptPublishesWithReceivedAtAndKeepsInlineMedia(t *testing.T) {
	q := &fakeQueue{result: record.Stored{ID: "01J0000000000000000000000", Reference: "7KQ2-9XMD"}}
	p := newPipeline(t, q, nil)
	out, err := p.Accept(context.Background(), &record.Message{Channel: "email", Provider: "imap", ProviderMessageID: "m1",
		Sender: record.Party{Email: "Warga@Example.com"}, Text: "Sampah menumpuk di TPS.",
		Attachments: []record.Attachment{{Filename: "foto.jpg", ContentType: "image/jpeg", Data: []byte("\xff\xd8\xff jpeg"), Status: "pending"},
			{Filename: "big.bin", Data: make([]byte, 2<<10), Status: "pending"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.published) != 1 || len(q.staged) != 0 {
		t.Fatalf("published %d staged %d", len(q.published), len(q.staged))
	}
	c := q.published[0]
	if c.ReceivedAt != "2026-11-26T02:00:00Z" {
		t.Fatalf("received_at %s: must be RFC 3339 UTC", c.ReceivedAt)
	}
	a := c.Attachments[0]
	if a.Status != "stored" || len(a.SHA256) != 64 || a.StorageURL != "https://intake.example.go.id/media/"+a.SHA256 || a.Data != nil {
		t.Fatalf("inline attachment: %+v", a)
	}
	if c.Attachments[1].Status != "too_large" {
		t.Fatalf("over-size attachment: %+v", c.Attachments[1])
	}
	if out.Reference != "7KQ2-9XMD" || out.Complaint.Reference != "7KQ2-9XMD" || out.Complaint.Sender.Email != "warga@example.com" {
		t.Fatalf("outcome: %+v", out)
	}
}

func TestRemoteMediaIsStagedOnlyWhenItsProviderIsFetched(t *testing.T) {
	msg := func() *record.Message {
		return &record.Message{Channel: "whatsapp", Provider: "meta", ProviderMessageID: "wamid.1",
			Attachments: []record.Attachment{{MediaID: "123", ContentType: "image/jpeg", Status: "pending"}}}
	}
	q := &fakeQueue{}
	if _, err := newPipeline(t, q, map[string]bool{"meta": true}).Accept(context.Background(), msg()); err != nil {
		t.Fatal(err)
	}
	if len(q.staged) != 1 || len(q.published) != 0 || !q.staged[0].HasFlag(record.FlagMediaOnly) {
		t.Fatalf("staged %d published %d", len(q.staged), len(q.published))
	}
	q = &fakeQueue{}
	if _, err := newPipeline(t, q, nil).Accept(context.Background(), msg()); err != nil {
		t.Fatal(err)
	}
	if len(q.published) != 1 || q.published[0].Attachments[0].Status != "pending" {
		t.Fatal("without a fetcher the record is published with its media pending")
	}
}

func TestMachineMailGoesToTheRejectedStream(t *testing.T) {
	q := &fakeQueue{}
	out, err := newPipeline(t, q, nil).Accept(context.Background(), &record.Message{Channel: "email", Provider: "imap",
		ProviderMessageID: "bounce-1", ContentType: "multipart/report",
		ContentTypeParams: map[string]string{"report-type": "delivery-status"},
		Headers:           map[string][]string{"Return-Path": {"<>"}, "From": {"MAILER-DAEMON@example.com"}},
		Sender:            record.Party{Email: "MAILER-DAEMON@example.com"}, Subject: "Undelivered Mail Returned to Sender",
		Text: "This is the mail system at host example.com.", Raw: []byte("raw bytes")})
	if err != nil {
		t.Fatal(err)
	}
	if out.Rejection == nil || len(q.rejected) != 1 || len(q.published) != 0 || q.rejected[0].Reason != "bounce" || string(q.rejected[0].Raw) != "raw bytes" {
		t.Fatalf("outcome %+v, rejected %+v", out, q.rejected)
	}
}

func TestQueueFailureIsUnavailable(t *testing.T) {
	q := &fakeQueue{err: errors.New("disk full")}
	_, err := newPipeline(t, q, nil).Accept(context.Background(), &record.Message{Channel: "sms", Provider: "twilio",
		ProviderMessageID: "SM1", Text: "halo"})
	if !errors.Is(err, channels.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable so the provider retries", err)
	}
}
