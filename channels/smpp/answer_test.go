package smpp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/channels/smpp"
	"github.com/lapor/intake/channels/smpp/smsctest"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

// answerRig is the channel on a real gateway with the return path's real parts: the
// outbound store and contacts on Redis, the Worker with the channel's Answerer, and the
// Tracker the channel's delivery receipts go to.
type answerRig struct {
	*rig
	g         *gatewaytest.Gateway
	store     *queue.OutboundStore
	worker    *outbound.Worker
	complaint string // the id of the citizen's complaint being answered
}

func newAnswerRig(t *testing.T) *answerRig {
	t.Helper()
	g := gatewaytest.Start(t, gatewaytest.Options{})
	parts, err := queue.OpenSMSParts(g.QueueCfg)
	if err != nil {
		t.Fatal(err)
	}
	store, err := queue.OpenOutbound(context.Background(), g.QueueCfg, queue.OutboundConfig{})
	if err != nil {
		t.Fatal(err)
	}
	contacts, err := queue.OpenContacts(g.QueueCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = parts.Close(); _ = store.Close(); _ = contacts.Close() })
	r := start(t, g.Sink, smsctest.Options{}, smpp.Options{Parts: parts, Statuses: &outbound.Tracker{Store: store}})
	a := &answerRig{rig: r, g: g, store: store}
	a.worker = &outbound.Worker{Store: store, Contacts: contacts, Senders: map[string]outbound.Sender{"sms/smpp": r.ch.Answerer()},
		RetryInterval: time.Millisecond, MaxInterval: time.Millisecond, ThrottlePause: time.Millisecond, SendTimeout: 5 * time.Second}

	// The citizen's SMS to 1708, which the answers go back to.
	if st := deliver(t, r.conn, single("Jembatan di Desa Sukamaju retak, mohon dicek.")); st != data.ESME_ROK {
		t.Fatalf("inbound: %v", st)
	}
	recs := g.Records(t)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	a.complaint = recs[0].ID
	return a
}

// answer puts an answer on the outbound stream and hands that entry to the worker
// deliveries times, as a redelivery after a crash would.
func (a *answerRig) answer(t *testing.T, id, text string, deliveries int) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"id": id, "complaint_id": a.complaint, "text": text})
	entry, err := a.store.Add(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= deliveries; n++ {
		if err := a.worker.Handle(context.Background(), entry, map[string]string{"message": string(b)}, int64(n)); err != nil {
			t.Fatalf("handle %s (delivery %d): %v", id, n, err)
		}
	}
}

func (a *answerRig) deliveries(t *testing.T, id string) []outbound.Delivery {
	t.Helper()
	return a.g.Deliveries(t, id)
}

func states(ds []outbound.Delivery) string {
	var s []string
	for _, d := range ds {
		s = append(s, string(d.State))
	}
	return strings.Join(s, ",")
}

// receipt is the SMSC's delivery receipt for message id with stat, as text.
func receipt(id, stat string) *pdu.DeliverSM {
	d := single(fmt.Sprintf("id:%s sub:001 dlvrd:001 submit date:2612050930 done date:2612050931 stat:%s err:000 text:Terima", id, stat))
	d.EsmClass = 0x04
	return d
}

// An answer leaves by one submit_sm from the short code the citizen wrote to, asking for
// a receipt, even when its entry is delivered again and the core repeats its id; the
// SMSC's receipt moves it to delivered, and a late receipt never moves it back.
func TestSMPPAnswerOnceThenDelivered(t *testing.T) {
	a := newAnswerRig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	const text = "Terima kasih, laporan Anda sedang ditindaklanjuti."
	a.answer(t, "ans-1", text, 2)
	a.answer(t, "ans-1", text, 1)   // the core sent the same id again
	sm, err := a.srv.Submitted(ctx) // receipts are off: the only submit_sm is the answer
	if err != nil {
		t.Fatal(err)
	}
	if a.srv.SubmitCount() != 1 {
		t.Fatalf("%d submit_sm, want 1", a.srv.SubmitCount())
	}
	got, _ := sm.Message.GetMessage()
	if got != text || sm.SourceAddr.Address() != "1708" || sm.DestAddr.Address() != citizen || sm.RegisteredDelivery != 1 {
		t.Fatalf("submit_sm %q from %s to %s, registered_delivery %d", got, sm.SourceAddr.Address(), sm.DestAddr.Address(), sm.RegisteredDelivery)
	}
	ds := a.deliveries(t, "ans-1")
	ids := a.srv.MessageIDs()
	if len(ds) != 1 || ds[0].State != outbound.StateAccepted || ds[0].Provider != "smpp" || ds[0].Channel != "sms" ||
		len(ids) != 1 || ds[0].ProviderMessageID != ids[0] {
		t.Fatalf("deliveries %+v, SMSC ids %v", ds, ids)
	}

	// The receipts: one for a message the gateway never sent (counted), DELIVRD, then a
	// late UNDELIV that must not undo it.
	for _, d := range []*pdu.DeliverSM{receipt("unknown-9", "DELIVRD"), receipt(ids[0], "DELIVRD"), receipt(ids[0], "UNDELIV")} {
		if st := deliver(t, a.conn, d); st != data.ESME_ROK {
			t.Fatalf("receipt: status %v", st)
		}
	}
	if s := states(a.deliveries(t, "ans-1")); s != "accepted,delivered" {
		t.Fatalf("states %s, want accepted,delivered", s)
	}
	if len(a.g.Records(t)) != 1 {
		t.Fatal("a receipt became a complaint")
	}
}

// A long answer leaves in parts carrying one concatenation reference; its provider id is
// the first part's, and a receipt in TLVs (receipted_message_id, message_state) naming it
// moves the state.
func TestSMPPLongAnswerInParts(t *testing.T) {
	a := newAnswerRig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	text := strings.Repeat("Petugas kami akan datang ke lokasi dalam tiga hari kerja. ", 6) // 348 GSM characters: 3 parts
	a.answer(t, "ans-long", text, 1)
	var refs []byte
	var whole strings.Builder
	for i := range 3 {
		sm, err := a.srv.Submitted(ctx)
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		udh := sm.Message.UDH()
		if len(udh) != 1 || sm.EsmClass&0x40 == 0 {
			t.Fatalf("part %d without a concatenation UDH", i+1)
		}
		refs = append(refs, udh[0].Data[0]) // the IE's data: reference, total, sequence
		part, _ := sm.Message.GetMessage()
		whole.WriteString(part)
	}
	if a.srv.SubmitCount() != 3 || whole.String() != text {
		t.Fatalf("%d submit_sm; text %q", a.srv.SubmitCount(), whole.String())
	}
	if refs[0] != refs[1] || refs[1] != refs[2] {
		t.Fatalf("concatenation references %v differ", refs)
	}
	ids := a.srv.MessageIDs()
	ds := a.deliveries(t, "ans-long")
	if len(ds) != 1 || ds[0].ProviderMessageID != ids[0] {
		t.Fatalf("deliveries %+v; SMSC ids %v", ds, ids)
	}
	d := single("")
	d.EsmClass = 0x04
	d.RegisterOptionalParam(pdu.Field{Tag: pdu.TagReceiptedMessageID, Data: append([]byte(ids[0]), 0)})
	d.RegisterOptionalParam(pdu.Field{Tag: pdu.TagMessageStateOption, Data: []byte{3}}) // EXPIRED
	if st := deliver(t, a.conn, d); st != data.ESME_ROK {
		t.Fatalf("receipt: %v", st)
	}
	ds = a.deliveries(t, "ans-long")
	if states(ds) != "accepted,expired" || ds[1].Error == nil || ds[1].Error.Class != outbound.ClassPermanent {
		t.Fatalf("deliveries %+v", ds)
	}
}

// A throttled submit_sm (0x58) is tried again and then accepted: two submit_sm, one
// accepted entry, no failure in between. An invalid destination (0x0B) fails at once.
func TestSMPPThrottledAnswerRetried(t *testing.T) {
	a := newAnswerRig(t)
	a.srv.RefuseNext(data.ESME_RTHROTTLED, 1)
	a.answer(t, "ans-throttled", "Mohon ditunggu.", 1)
	if n := a.srv.SubmitCount(); n != 2 {
		t.Fatalf("%d submit_sm, want 2 (throttled, then taken)", n)
	}
	if s := states(a.deliveries(t, "ans-throttled")); s != "accepted" {
		t.Fatalf("states %s, want accepted", s)
	}

	a.srv.RefuseNext(data.ESME_RINVDSTADR, 1)
	a.answer(t, "ans-bad-number", "Mohon ditunggu.", 1)
	ds := a.deliveries(t, "ans-bad-number")
	if n := a.srv.SubmitCount(); n != 3 || len(ds) != 1 || ds[0].State != outbound.StateFailed ||
		ds[0].Error.Class != outbound.ClassPermanent || ds[0].Error.Code != "0x0B" {
		t.Fatalf("%d submit_sm; deliveries %+v", n, ds)
	}
}

// No submit_sm_resp in time: the SMSC may have the message, so it ends unknown and is
// never sent again.
func TestSMPPAnswerWithoutResponseEndsUnknown(t *testing.T) {
	a := newAnswerRig(t)
	a.worker.SendTimeout = 300 * time.Millisecond
	a.conn.Mute()
	a.answer(t, "ans-silent", "Mohon ditunggu.", 2)
	ds := a.deliveries(t, "ans-silent")
	if len(ds) != 1 || ds[0].State != outbound.StateUnknown || a.srv.SubmitCount() != 1 {
		t.Fatalf("%d submit_sm; deliveries %+v", a.srv.SubmitCount(), ds)
	}
}

// heldStore holds the worker's record of an accepted send until released: the SMSC's
// receipt overtakes it.
type heldStore struct {
	*queue.OutboundStore
	release chan struct{}
}

func (h *heldStore) Transition(ctx context.Context, rec outbound.Record, from []outbound.State, to outbound.State, d *outbound.Delivery) (outbound.State, bool, error) {
	if to == outbound.StateAccepted {
		<-h.release
	}
	return h.OutboundStore.Transition(ctx, rec, from, to, d)
}

// A receipt that comes before the worker recorded the send still finds its answer (the
// channel remembers the message id from the submit_sm_resp) and moves it to delivered;
// the late record of the send then changes nothing.
func TestSMPPReceiptBeforeTheSendIsRecorded(t *testing.T) {
	a := newAnswerRig(t)
	held := &heldStore{OutboundStore: a.store, release: make(chan struct{})}
	a.worker.Store = held
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.answer(t, "ans-fast", "Sudah diperbaiki.", 1)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := a.srv.Submitted(ctx); err != nil {
		t.Fatal(err)
	}
	ids := a.srv.MessageIDs()
	if st := deliver(t, a.conn, receipt(ids[0], "DELIVRD")); st != data.ESME_ROK {
		t.Fatalf("receipt: %v", st)
	}
	close(held.release)
	<-done
	ds := a.deliveries(t, "ans-fast")
	if states(ds) != "delivered" || ds[0].ProviderMessageID != ids[0] {
		t.Fatalf("deliveries %+v", ds)
	}
	if id, err := a.store.Lookup(context.Background(), "smpp", ids[0]); err != nil || id != "ans-fast" {
		t.Fatalf("lookup %q %v", id, err)
	}
}

// BenchmarkSMPPAnswerSend: one answer (one part) through the Answerer to the stand-in
// SMSC and back (submit_sm, submit_sm_resp), on loopback.
func BenchmarkSMPPAnswerSend(b *testing.B) {
	r := start(b, channelstest.NewSink(), smsctest.Options{}, smpp.Options{})
	a := r.ch.Answerer()
	m := outbound.Outgoing{OutboundID: "bench", Text: "Terima kasih, laporan Anda sedang ditindaklanjuti.",
		Contact: record.Contact{Channel: "sms", Provider: "smpp", Address: "+" + citizen, Recipient: "1708"}}
	// The stand-in sees the bind a moment before the channel has taken the connection.
	for _, err := a.Send(context.Background(), m); err != nil; _, err = a.Send(context.Background(), m) {
		time.Sleep(time.Millisecond)
	}
	for b.Loop() {
		if _, err := a.Send(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
}
