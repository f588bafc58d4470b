package email

import (
	"bytes"
	"context"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

// A citizen's reply to the gateway's email receipt (In-Reply-To naming the receipt's
// Message-ID) is a follow-up of the complaint; the same reply forged by another address
// is a complaint of its own. Real Dovecot, real Redis, an SMTP stand-in for receipts.
func TestFollowUpByEmailReplyEndToEnd(t *testing.T) {
	g := gatewaytest.Start(t, gatewaytest.Options{CitizenKey: "email-citizen-key-0123456789abcdef"})
	state, err := queue.OpenMailState(g.QueueCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = state.Close() })
	d := testenv.StartDovecot(t)
	mb := testMailbox(d)
	srv := startSMTP(t)

	appendMail(t, mb, authedMail("example.com", mailWithID("fu-1@example.com", "Jalan rusak di depan SDN 3.")))
	startChannel(t, receiptConfig(mb, srv.Addr), g.Sink, state, Options{Metrics: g.Metrics,
		Receipts: channels.Receipts{Enabled: true}, Sent: g.Conversations})
	first := g.WaitRecords(t, 1, 10*time.Second)[0]
	waitFor(t, 10*time.Second, "receipt", func() bool { return len(srv.received()) == 1 })
	msg, err := mail.ReadMessage(bytes.NewReader(srv.received()[0].data))
	if err != nil {
		t.Fatal(err)
	}
	receiptID := strings.Trim(msg.Header.Get("Message-ID"), "<>")
	sentKey := g.QueueCfg.KeyPrefix + "intake:conv:sent:email:" + receiptID
	waitFor(t, 10*time.Second, "the receipt's Message-ID kept", func() bool {
		return g.Redis.Exists(context.Background(), sentKey).Val() == 1
	})

	reply := func(from, id string) []byte {
		return authedMail("example.com", []byte("From: "+from+"\r\nTo: pengaduan@example.go.id\r\nSubject: Re: tambahan\r\n"+
			"Message-ID: <"+id+">\r\nIn-Reply-To: <"+receiptID+">\r\nReferences: <fu-1@example.com> <"+receiptID+">\r\n"+
			"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLubangnya makin besar setelah hujan.\r\n"))
	}
	appendMail(t, mb, reply("Warga <WARGA@example.com>", "fu-2@example.com"))
	appendMail(t, mb, reply("Orang Lain <lain@example.com>", "fu-3@example.com"))
	recs := g.WaitRecords(t, 3, 10*time.Second)
	byID := map[string]*record.Complaint{}
	for _, r := range recs {
		byID[r.ProviderMessageID] = r
	}
	f, forged := byID["fu-2@example.com"], byID["fu-3@example.com"]
	if f == nil || forged == nil {
		t.Fatalf("records %v", byID)
	}
	if f.Kind != record.KindFollowUp || f.FollowUpOf == nil || f.FollowUpOf.ID != first.ID || f.Reference != first.Reference {
		t.Fatalf("the reply to the receipt: kind %q, follow_up_of %+v, reference %q; want a follow-up of %s %s",
			f.Kind, f.FollowUpOf, f.Reference, first.ID, first.Reference)
	}
	if f.CitizenID != first.CitizenID || f.CitizenID == "" {
		t.Fatalf("one address, two citizens: %q, %q", first.CitizenID, f.CitizenID)
	}
	if forged.Kind != record.KindComplaint || forged.FollowUpOf != nil || forged.Reference == first.Reference {
		t.Fatalf("another address's forged In-Reply-To linked: kind %q, follow_up_of %+v", forged.Kind, forged.FollowUpOf)
	}
}
