package smpp_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/smpp"
	"github.com/lapor/intake/channels/smpp/smsctest"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

// gatewayRig is the channel on a real gateway (real Redis, queue, pipeline, normaliser)
// bound to a stand-in SMSC, with the Redis part store.
func gatewayRig(t testing.TB, redisAddr string, o smpp.Options) (*gatewaytest.Gateway, *rig) {
	t.Helper()
	g := gatewaytest.Start(t, gatewaytest.Options{RedisAddr: redisAddr})
	parts, err := queue.OpenSMSParts(g.QueueCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = parts.Close() })
	o.Parts = parts
	return g, start(t, g.Sink, smsctest.Options{}, o)
}

func TestSMPPEndToEnd(t *testing.T) {
	g, r := gatewayRig(t, "", smpp.Options{PartTimeout: 300 * time.Millisecond,
		Receipts: channels.Receipts{Enabled: true, PerCitizen: 100}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A single SMS in national form becomes one record; the receipt carries its reference.
	d := single("Jalan Raya Cibiru depan pasar rusak parah, mohon diperbaiki.")
	d.SourceAddr, _ = pdu.NewAddressWithTonNpiAddr(2, 1, "081234567801")
	if st := deliver(t, r.conn, d); st != data.ESME_ROK {
		t.Fatalf("status %v", st)
	}
	recs := g.Records(t) // validated against the JSON Schema
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	c := recs[0]
	if c.Channel != "sms" || c.Provider != "smpp" || !strings.HasPrefix(c.ProviderMessageID, "smpp-") ||
		c.Sender == nil || c.Sender.Phone != "+6281234567801" || c.Recipient.Address != "1708" || c.Language != "id" {
		t.Fatalf("record %+v", c)
	}
	sm, err := r.srv.Submitted(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := sm.Message.GetMessage(); !strings.Contains(text, c.Reference) || sm.DestAddr.Address() != "6281234567801" {
		t.Fatalf("receipt %q to %s, reference %s", text, sm.DestAddr.Address(), c.Reference)
	}

	// The SMSC delivers it again (its answer was lost): still one record.
	d2 := single("Jalan Raya Cibiru depan pasar rusak parah, mohon diperbaiki.")
	d2.SourceAddr, _ = pdu.NewAddressWithTonNpiAddr(2, 1, "081234567801")
	if st := deliver(t, r.conn, d2); st != data.ESME_ROK {
		t.Fatalf("redelivery: status %v", st)
	}

	// A long UCS-2 message in reverse order: one record, in part order.
	long := strings.Repeat("Lampu jalan mati 😡 sejak 3 hari 🙏 ", 5)
	parts := smpp.SampleDeliverSMs(long, smpp.Sample{From: "6281234567802", To: "1708", Ref: 77})
	for i := len(parts) - 1; i >= 0; i-- {
		if st := deliver(t, r.conn, parts[i]); st != data.ESME_ROK {
			t.Fatalf("part %d: %v", i+1, st)
		}
	}

	// A delivery receipt is no complaint; an unsupported coding is rejected with its bytes.
	receipt := single("id:42 sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:x")
	receipt.EsmClass = 0x04
	deliver(t, r.conn, receipt)
	bin := single("x")
	_ = bin.Message.SetMessageDataWithEncoding([]byte{0xCA, 0xFE}, data.BINARY8BIT2)
	if st := deliver(t, r.conn, bin); st != data.ESME_ROK {
		t.Fatalf("unsupported coding: %v", st)
	}

	// A long message whose second part never comes: flagged incomplete after the timeout.
	orphan := smpp.SampleDeliverSMs(strings.Repeat("Saluran air tersumbat. ", 10), smpp.Sample{From: "6281234567803", To: "1708", Ref: 78})
	deliver(t, r.conn, orphan[0])

	recs = g.WaitRecords(t, 3, 15*time.Second)
	if recs[1].Body != strings.TrimSpace(long) || recs[1].ChannelData["segments"] != float64(len(parts)) {
		t.Fatalf("long record %q %v", recs[1].Body, recs[1].ChannelData)
	}
	if !recs[2].HasFlag(record.FlagIncomplete) || !strings.HasPrefix(recs[2].Body, "Saluran air tersumbat.") {
		t.Fatalf("incomplete record %q flags %v", recs[2].Body, recs[2].Flags)
	}
	rej := g.Rejections(t)
	if len(rej) != 1 || rej[0]["reason"] != "unsupported" || rej[0]["channel"] != "sms" || !strings.Contains(rej[0]["raw"].(string), "\xca\xfe") {
		t.Fatalf("rejections %v", rej)
	}
}

// Redis stops: a single SMS is answered 0 from the spool and reaches the stream once Redis
// is back; a part of a long message, which needs the part store, is answered 0x64; with
// the spool unusable too, a single SMS is answered 0x64 as well.
func TestSMPPRedisOutageEndToEnd(t *testing.T) {
	redis := testenv.NewRestartableRedis(t)
	g, r := gatewayRig(t, redis.Addr, smpp.Options{})
	redis.Stop()

	spool := g.QueueCfg.SpoolDir
	if err := os.RemoveAll(spool); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spool, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st := deliver(t, r.conn, single("Tidak ada yang bisa menyimpan ini")); st != data.ESME_RX_T_APPN {
		t.Fatalf("nowhere to store: status %v, want 0x64", st)
	}
	if err := os.Remove(spool); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(spool, 0o700); err != nil {
		t.Fatal(err)
	}

	if st := deliver(t, r.conn, single("Disimpan di spool")); st != data.ESME_ROK {
		t.Fatalf("spooled: status %v, want 0", st)
	}
	long := smpp.SampleDeliverSMs(strings.Repeat("Bagian pesan panjang. ", 10), smpp.Sample{From: citizen, To: "1708", Ref: 5})
	if st := deliver(t, r.conn, long[0]); st != data.ESME_RX_T_APPN {
		t.Fatalf("part with the part store down: status %v, want 0x64", st)
	}
	redis.Start()
	for _, d := range long { // the SMSC delivers the part again, then the rest
		if st := deliver(t, r.conn, d); st != data.ESME_ROK {
			t.Fatalf("after the outage: status %v", st)
		}
	}
	recs := g.WaitRecords(t, 2, 20*time.Second)
	bodies := recs[0].Body + "|" + recs[1].Body
	if !strings.Contains(bodies, "Disimpan di spool") || !strings.Contains(bodies, "Bagian pesan panjang.") {
		t.Fatalf("records %q", bodies)
	}
}
