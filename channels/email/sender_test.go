package email

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"

	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

func answerOut(kind string) outbound.Outgoing {
	return outbound.Outgoing{OutboundID: "o1", Kind: kind, Reference: "7KQ2-9XMD", Text: "Jalan sudah diperbaiki. Terima kasih.",
		Contact: record.Contact{Channel: "email", Provider: "imap", Address: "warga@example.id", Recipient: "pengaduan@example.go.id",
			MessageID: "citizen-2@example.id", References: []string{"citizen-1@example.id"}, Subject: "Jalan rusak di Sukamaju"}}
}

func TestAnswerMailIsThreaded(t *testing.T) {
	srv := startSMTP(t)
	s, err := NewSender(smtpConfig(srv.Addr), nil)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := s.Send(context.Background(), answerOut(outbound.KindAnswer))
	if err != nil {
		t.Fatal(err)
	}
	got := srv.received()
	if len(got) != 1 || len(got[0].to) != 1 || got[0].to[0] != "warga@example.id" {
		t.Fatalf("received %+v", got)
	}
	r, err := mail.CreateReader(strings.NewReader(string(got[0].data)))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header
	subj, _ := h.Subject()
	if subj != "Re: Jalan rusak di Sukamaju [7KQ2-9XMD]" {
		t.Errorf("subject %q", subj)
	}
	irt, _ := h.MsgIDList("In-Reply-To")
	refs, _ := h.MsgIDList("References")
	if strings.Join(irt, ",") != "citizen-2@example.id" || strings.Join(refs, ",") != "citizen-1@example.id,citizen-2@example.id" {
		t.Errorf("In-Reply-To %v, References %v", irt, refs)
	}
	id, _ := h.MessageID()
	if id == "" || id != sent.ProviderMessageID {
		t.Errorf("Message-ID %q, provider id %q", id, sent.ProviderMessageID)
	}
	if h.Get("Auto-Submitted") != "" {
		t.Error("a person's answer is not auto-submitted")
	}
	if _, err := s.Send(context.Background(), answerOut(outbound.KindStatus)); err != nil {
		t.Fatal(err)
	}
	r2, _ := mail.CreateReader(strings.NewReader(string(srv.received()[1].data)))
	if r2.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Error("a status notice is auto-generated")
	}
}

func TestAnswerSubject(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"Jalan rusak", "7KQ2-9XMD"}:                "Re: Jalan rusak [7KQ2-9XMD]",
		{"", "7KQ2-9XMD"}:                           "Re: [7KQ2-9XMD]",
		{"Aduan diterima [7KQ2-9XMD]", "7KQ2-9XMD"}: "Re: Aduan diterima [7KQ2-9XMD]",
	} {
		if got := AnswerSubject(in[0], in[1]); got != want {
			t.Errorf("%v: %q, want %q", in, got, want)
		}
	}
}

func TestAnswerMailFailures(t *testing.T) {
	srv := startSMTP(t)
	srv.rejectRcpt = true
	s, _ := NewSender(smtpConfig(srv.Addr), nil)
	_, err := s.Send(context.Background(), answerOut(outbound.KindAnswer))
	var oe *outbound.Error
	if !errors.As(err, &oe) || oe.Class != outbound.ClassPermanent || oe.Code != "550" || oe.Ambiguous {
		t.Errorf("rejected recipient: %+v", oe)
	}
	down, _ := NewSender(smtpConfig("127.0.0.1:1"), nil)
	_, err = down.Send(context.Background(), answerOut(outbound.KindAnswer))
	if !errors.As(err, &oe) || oe.Class != outbound.ClassRetry || oe.Ambiguous {
		t.Errorf("server down: %+v", oe)
	}
}
