package smpp_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/channels/smpp"
	"github.com/lapor/intake/channels/smpp/smsctest"
	"github.com/lapor/intake/record"
)

const (
	systemID = "lapor"
	password = "secret"
	citizen  = "6281234567801"
)

// rig is a channel bound to a stand-in SMSC.
type rig struct {
	srv   *smsctest.Server
	ch    *smpp.Channel
	conn  *smsctest.Conn
	parts *smpp.MemoryPartStore
	stop  func()
	done  chan struct{}
}

func bindTo(srv *smsctest.Server) smpp.Bind {
	return smpp.Bind{Name: "op1", Addr: srv.Addr, SystemID: systemID, Password: password, SourceAddr: "1708"}
}

// start runs a channel with sink against a new stand-in SMSC and waits for its bind.
func start(t testing.TB, sink channels.Sink, so smsctest.Options, o smpp.Options) *rig {
	t.Helper()
	so.SystemID, so.Password = systemID, password
	srv, err := smsctest.Start("127.0.0.1:0", so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	r := &rig{srv: srv, done: make(chan struct{})}
	if o.Parts == nil {
		r.parts = smpp.NewMemoryPartStore()
		o.Parts = r.parts
	}
	o.RebindMin, o.RebindMax = 10*time.Millisecond, 50*time.Millisecond
	r.ch, err = smpp.New(smpp.Config{Binds: []smpp.Bind{bindTo(srv)}}, sink, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = func() {
		cancel()
		<-r.done
	}
	go func() {
		_ = r.ch.Run(ctx)
		close(r.done)
	}()
	t.Cleanup(r.stop)
	r.conn = r.waitBound(t)
	return r
}

func (r *rig) waitBound(t testing.TB) *smsctest.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := r.srv.WaitBound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func deliver(t testing.TB, c *smsctest.Conn, d *pdu.DeliverSM) data.CommandStatusType {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	st, err := c.DeliverWait(ctx, d)
	if err != nil {
		t.Fatalf("deliver_sm: %v", err)
	}
	return st
}

func single(text string) *pdu.DeliverSM {
	return smpp.SampleDeliverSMs(text, smpp.Sample{From: citizen, To: "1708"})[0]
}

// gateSink blocks Accept until released, and says when a call entered it.
type gateSink struct {
	*channelstest.Sink
	entered chan struct{}
	release chan struct{}
}

func (g *gateSink) Accept(ctx context.Context, m *record.Message) (channels.Outcome, error) {
	g.entered <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return channels.Outcome{}, ctx.Err()
	}
	return g.Sink.Accept(ctx, m)
}

func TestBindsWithGoodCredentialsOnly(t *testing.T) {
	srv, err := smsctest.Start("127.0.0.1:0", smsctest.Options{SystemID: systemID, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := smpp.Verify(bindTo(srv)); err != nil {
		t.Fatalf("good credentials: %v", err)
	}
	bad := bindTo(srv)
	bad.Password = "wrong"
	if err := smpp.Verify(bad); !errors.Is(err, smpp.ErrBadCredentials) {
		t.Fatalf("bad credentials: %v", err)
	}
	ch, err := smpp.New(smpp.Config{Binds: []smpp.Bind{bad}}, channelstest.NewSink(),
		smpp.Options{Parts: smpp.NewMemoryPartStore(), RebindMin: 5 * time.Millisecond, RebindMax: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ch.Run(ctx) }()
	for srv.Refused() < 3 { // it keeps trying, with back-off
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if srv.Binds() != 1 { // Verify's good bind only
		t.Fatalf("%d binds accepted", srv.Binds())
	}
}

func TestDeliverSMIsAnsweredOnlyOnceDurable(t *testing.T) {
	sink := &gateSink{Sink: channelstest.NewSink(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	r := start(t, sink, smsctest.Options{}, smpp.Options{})
	resp, err := r.conn.Deliver(context.Background(), single("Jalan rusak di depan pasar"))
	if err != nil {
		t.Fatal(err)
	}
	<-sink.entered
	// While the record is being stored, enquire_link is still answered at once…
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.conn.EnquireLink(ctx); err != nil {
		t.Fatalf("enquire_link not answered while a message is being stored: %v", err)
	}
	// …and the deliver_sm is not.
	select {
	case st := <-resp:
		t.Fatalf("deliver_sm answered (%v) before Accept returned", st)
	default:
	}
	close(sink.release)
	if st := <-resp; st != data.ESME_ROK {
		t.Fatalf("status %v", st)
	}
	got := sink.Accepted()
	if len(got) != 1 || got[0].Text != "Jalan rusak di depan pasar" || got[0].Sender.Phone != "+"+citizen || got[0].Provider != "smpp" {
		t.Fatalf("accepted %+v", got)
	}
}

func TestUnavailableStoreAnswers0x64(t *testing.T) {
	sink := channelstest.NewSink()
	sink.Err = channels.ErrUnavailable
	r := start(t, sink, smsctest.Options{}, smpp.Options{})
	if st := deliver(t, r.conn, single("Sampah menumpuk")); st != data.ESME_RX_T_APPN {
		t.Fatalf("status %v, want 0x64", st)
	}

	// A store that never answers: 0x64 once AcceptTimeout has passed.
	stuck := &gateSink{Sink: channelstest.NewSink(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	r2 := start(t, stuck, smsctest.Options{}, smpp.Options{AcceptTimeout: 100 * time.Millisecond})
	if st := deliver(t, r2.conn, single("Sampah menumpuk")); st != data.ESME_RX_T_APPN {
		t.Fatalf("status %v, want 0x64", st)
	}
}

func TestDeliveryReceiptIsNoComplaint(t *testing.T) {
	sink := channelstest.NewSink()
	r := start(t, sink, smsctest.Options{}, smpp.Options{})
	d := single("id:0123 sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:Terima")
	d.EsmClass = 0x04
	if st := deliver(t, r.conn, d); st != data.ESME_ROK {
		t.Fatalf("status %v", st)
	}
	if len(sink.Accepted()) != 0 || len(sink.Rejected()) != 0 || strings.Join(sink.Events(), ",") != "sms:smpp_receipt" {
		t.Fatalf("accepted %d rejected %d events %v", len(sink.Accepted()), len(sink.Rejected()), sink.Events())
	}
}

func TestEachCodingAndUnsupportedOnes(t *testing.T) {
	sink := channelstest.NewSink()
	r := start(t, sink, smsctest.Options{}, smpp.Options{})
	mk := func(enc data.Encoding, ud []byte) *pdu.DeliverSM {
		d := single("x")
		_ = d.Message.SetMessageDataWithEncoding(ud, enc)
		return d
	}
	for _, c := range []struct {
		enc  data.Encoding
		ud   []byte
		want string
	}{
		{data.GSM7BIT, []byte{0x00, 0x20, 0x1B, 0x65}, "@ €"},
		{data.LATIN1, []byte("Jalan rusak, caf\xe9"), "Jalan rusak, café"},
		{data.UCS2, []byte{0x00, 0x4A, 0xD8, 0x3D, 0xDE, 0x4F}, "J🙏"},
	} {
		if st := deliver(t, r.conn, mk(c.enc, c.ud)); st != data.ESME_ROK {
			t.Fatalf("coding %d: status %v", c.enc.DataCoding(), st)
		}
		got := sink.Accepted()
		if got[len(got)-1].Text != c.want {
			t.Fatalf("coding %d: text %q", c.enc.DataCoding(), got[len(got)-1].Text)
		}
	}
	if st := deliver(t, r.conn, mk(data.BINARY8BIT2, []byte{0xDE, 0xAD})); st != data.ESME_ROK {
		t.Fatalf("unsupported coding: status %v, want 0 (kept in the rejected stream)", st)
	}
	rej := sink.Rejected()
	if len(rej) != 1 || rej[0].Reason != record.ReasonUnsupported || len(rej[0].Raw) == 0 || rej[0].Provider != "smpp" {
		t.Fatalf("rejections %+v", rej)
	}
}

func TestRedeliveryIsOneRecord(t *testing.T) {
	sink := channelstest.NewSink()
	r := start(t, sink, smsctest.Options{}, smpp.Options{})
	for i := 0; i < 2; i++ {
		if st := deliver(t, r.conn, single("Banjir di RT 03")); st != data.ESME_ROK {
			t.Fatalf("status %v", st)
		}
	}
	long := smpp.SampleDeliverSMs(strings.Repeat("Jalan berlubang besar. ", 10), smpp.Sample{From: citizen, To: "1708", Ref: 3})
	for _, d := range append(long, long[1]) { // the last part delivered again after the message is whole
		if st := deliver(t, r.conn, d); st != data.ESME_ROK {
			t.Fatalf("status %v", st)
		}
	}
	if n := len(sink.Accepted()); n != 2 {
		t.Fatalf("%d records, want 2 (one short, one long)", n)
	}
}

func TestLongMessageInReverseOrder(t *testing.T) {
	sink := channelstest.NewSink()
	r := start(t, sink, smsctest.Options{}, smpp.Options{})
	text := strings.Repeat("Lampu jalan mati 😡 sejak 3 hari 🙏 ", 6)
	parts := smpp.SampleDeliverSMs(text, smpp.Sample{From: citizen, To: "1708", Ref: 42})
	if len(parts) < 3 {
		t.Fatalf("%d parts", len(parts))
	}
	for i := len(parts) - 1; i >= 0; i-- {
		if st := deliver(t, r.conn, parts[i]); st != data.ESME_ROK {
			t.Fatalf("part %d: status %v", i+1, st)
		}
		if n := len(sink.Accepted()); (i > 0 && n != 0) || (i == 0 && n != 1) {
			t.Fatalf("after part %d: %d records", i+1, n)
		}
	}
	if got := sink.Accepted()[0]; got.Text != text || got.ChannelData["segments"] != len(parts) {
		t.Fatalf("record %q %v", got.Text, got.ChannelData)
	}
}

func TestLongMessageSplitAcrossAReconnect(t *testing.T) {
	sink := channelstest.NewSink()
	r := start(t, sink, smsctest.Options{}, smpp.Options{})
	parts := smpp.SampleDeliverSMs(strings.Repeat("Trotoar rusak parah. ", 12), smpp.Sample{From: citizen, To: "1708", Ref: 9})
	if st := deliver(t, r.conn, parts[0]); st != data.ESME_ROK {
		t.Fatalf("status %v", st)
	}
	r.conn.Drop()
	again := r.waitBound(t) // the gateway binds again
	for _, d := range parts[1:] {
		if st := deliver(t, again, d); st != data.ESME_ROK {
			t.Fatalf("status %v", st)
		}
	}
	if got := sink.Accepted(); len(got) != 1 || got[0].Text != strings.Repeat("Trotoar rusak parah. ", 12) {
		t.Fatalf("records %d", len(got))
	}
}

func TestWindowOfOneDoesNotDeadlock(t *testing.T) {
	sink := channelstest.NewSink()
	r := start(t, sink, smsctest.Options{Window: 1}, smpp.Options{})
	parts := smpp.SampleDeliverSMs(strings.Repeat("Air PDAM tidak mengalir. ", 12), smpp.Sample{From: citizen, To: "1708", Ref: 1})
	var resps []<-chan data.CommandStatusType
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, d := range parts { // Deliver waits for the window: part 2 goes only once part 1 is answered
		ch, err := r.conn.Deliver(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		resps = append(resps, ch)
	}
	for i, ch := range resps {
		if st := <-ch; st != data.ESME_ROK {
			t.Fatalf("part %d: %v", i+1, st)
		}
	}
	if len(sink.Accepted()) != 1 {
		t.Fatalf("%d records", len(sink.Accepted()))
	}
}

func TestIncompleteAfterTheTimeout(t *testing.T) {
	sink := channelstest.NewSink()
	r := start(t, sink, smsctest.Options{}, smpp.Options{PartTimeout: 200 * time.Millisecond})
	parts := smpp.SampleDeliverSMs(strings.Repeat("Pohon tumbang di jalan. ", 12), smpp.Sample{From: citizen, To: "1708", Ref: 5})
	if st := deliver(t, r.conn, parts[0]); st != data.ESME_ROK {
		t.Fatalf("status %v", st)
	}
	got := waitAccepted(t, sink, 1)
	if !hasFlag(got[0], record.FlagIncomplete) || !strings.HasPrefix(got[0].Text, "Pohon tumbang") {
		t.Fatalf("record %q flags %v", got[0].Text, got[0].Flags)
	}
	// The missing part arrives after all: it is kept, as a record of its own, once.
	for i := 0; i < 2; i++ {
		if st := deliver(t, r.conn, parts[1]); st != data.ESME_ROK {
			t.Fatalf("late part: status %v", st)
		}
	}
	if got := sink.Accepted(); len(got) != 2 || !hasFlag(got[1], record.FlagIncomplete) {
		t.Fatalf("late part: %d records", len(got))
	}
}

func TestPartStoreDownAnswers0x64(t *testing.T) {
	sink := channelstest.NewSink()
	parts := smpp.NewMemoryPartStore()
	parts.Err = errors.New("redis: connection refused")
	r := start(t, sink, smsctest.Options{}, smpp.Options{Parts: parts})
	long := smpp.SampleDeliverSMs(strings.Repeat("Jembatan retak. ", 15), smpp.Sample{From: citizen, To: "1708", Ref: 2})
	if st := deliver(t, r.conn, long[0]); st != data.ESME_RX_T_APPN {
		t.Fatalf("status %v, want 0x64", st)
	}
	if st := deliver(t, r.conn, single("Pesan pendek tetap diterima")); st != data.ESME_ROK {
		t.Fatalf("a single-part message needs no part store: %v", st)
	}
}

func TestReceiptBySubmitSM(t *testing.T) {
	sink := channelstest.NewSink()
	r := start(t, sink, smsctest.Options{}, smpp.Options{Receipts: channels.Receipts{Enabled: true, PerCitizen: 100}})
	if st := deliver(t, r.conn, single("Lampu jalan mati")); st != data.ESME_ROK {
		t.Fatalf("status %v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sm, err := r.srv.Submitted(ctx)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := sm.Message.GetMessage()
	if sm.DestAddr.Address() != citizen || sm.DestAddr.Ton() != 1 || sm.SourceAddr.Address() != "1708" || !strings.Contains(text, "REF1-X") {
		t.Fatalf("submit_sm to %s from %s: %q", sm.DestAddr.Address(), sm.SourceAddr.Address(), text)
	}
	// A redelivery gets no second receipt; an alphanumeric sender gets none at all.
	deliver(t, r.conn, single("Lampu jalan mati"))
	alpha := single("Info tagihan")
	alpha.SourceAddr, _ = pdu.NewAddressWithTonNpiAddr(5, 0, "PLN")
	deliver(t, r.conn, alpha)
	if len(sink.Accepted()) != 2 {
		t.Fatalf("%d records", len(sink.Accepted()))
	}
	long := strings.Repeat("Terima kasih 🙏 ", 10)
	if err := r.ch.Sender("op1").Send(ctx, "+"+citizen, long); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var got strings.Builder
	for {
		sm, err := r.srv.Submitted(ctx)
		if err != nil {
			t.Fatalf("after %q: %v", got.String(), err)
		}
		if sm.DestAddr.Address() != citizen {
			t.Fatalf("a receipt went to %s", sm.DestAddr.Address())
		}
		part, _ := sm.Message.GetMessage()
		got.WriteString(part)
		if got.String() == long {
			break
		}
	}
}

func TestStopUnbinds(t *testing.T) {
	r := start(t, channelstest.NewSink(), smsctest.Options{}, smpp.Options{})
	r.stop()
	select {
	case <-r.conn.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the connection is still open after Run returned")
	}
	if r.srv.Unbinds() != 1 {
		t.Fatalf("%d unbind received, want 1", r.srv.Unbinds())
	}
}

func waitAccepted(t *testing.T, sink *channelstest.Sink, n int) []*record.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(sink.Accepted()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d records, want %d", len(sink.Accepted()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return sink.Accepted()
}

func hasFlag(m *record.Message, f string) bool {
	for _, g := range m.Flags {
		if g == f {
			return true
		}
	}
	return false
}

// The gateway sends enquire_link itself, and a link that stops answering is dropped and
// bound again.
func TestEnquireLinkAndRebindOnASilentLink(t *testing.T) {
	r := start(t, channelstest.NewSink(), smsctest.Options{}, smpp.Options{EnquireLink: 20 * time.Millisecond})
	for r.srv.EnquireLinks() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	r.conn.Mute()
	again := r.waitBound(t)
	if again == r.conn {
		t.Fatal("the same connection bound twice")
	}
}

// At shutdown a message being stored is still answered, before the unbind.
func TestStopAnswersTheMessagesInHand(t *testing.T) {
	sink := &gateSink{Sink: channelstest.NewSink(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	r := start(t, sink, smsctest.Options{}, smpp.Options{})
	resp, err := r.conn.Deliver(context.Background(), single("Pesan saat berhenti"))
	if err != nil {
		t.Fatal(err)
	}
	<-sink.entered
	stopped := make(chan struct{})
	go func() { r.stop(); close(stopped) }()
	close(sink.release)
	if st, ok := <-resp; !ok || st != data.ESME_ROK {
		t.Fatalf("status %v (answered: %v)", st, ok)
	}
	<-stopped
	if r.srv.Unbinds() != 1 {
		t.Fatalf("%d unbind", r.srv.Unbinds())
	}
}

// A receiver bind sends its receipts through a transmitter bind to TxAddr.
func TestReceiverSendsThroughItsTransmitter(t *testing.T) {
	srv, err := smsctest.Start("127.0.0.1:0", smsctest.Options{SystemID: systemID, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	b := bindTo(srv)
	b.Bind, b.TxAddr = smpp.BindReceiver, srv.Addr
	sink := channelstest.NewSink()
	ch, err := smpp.New(smpp.Config{Binds: []smpp.Bind{b}}, sink, smpp.Options{Parts: smpp.NewMemoryPartStore(),
		Receipts: channels.Receipts{Enabled: true, PerCitizen: 10}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = ch.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	rx, err := srv.WaitBound(wctx)
	if err != nil || rx.Type != "receiver" {
		t.Fatalf("bind %v %v", rx, err)
	}
	if st := deliver(t, rx, single("Lampu jalan mati")); st != data.ESME_ROK {
		t.Fatalf("status %v", st)
	}
	tx, err := srv.WaitBound(wctx)
	if err != nil || tx.Type != "transmitter" {
		t.Fatalf("transmitter bind %v %v", tx, err)
	}
	sm, err := srv.Submitted(wctx)
	if err != nil || sm.DestAddr.Address() != citizen {
		t.Fatalf("receipt %v %v", sm, err)
	}
}

// The same text from the same number after the dedupe window is a new complaint.
func TestSameTextAfterTheWindowIsANewRecord(t *testing.T) {
	sink := channelstest.NewSink()
	r := start(t, sink, smsctest.Options{}, smpp.Options{DedupeWindow: 50 * time.Millisecond})
	deliver(t, r.conn, single("Lampu mati"))
	deliver(t, r.conn, single("Lampu mati")) // a redelivery within the window
	if n := len(sink.Accepted()); n != 1 {
		t.Fatalf("%d records within the window", n)
	}
	time.Sleep(60 * time.Millisecond) // let the window pass
	deliver(t, r.conn, single("Lampu mati"))
	got := sink.Accepted()
	if len(got) != 2 || got[0].ProviderMessageID == got[1].ProviderMessageID {
		t.Fatalf("%d records after the window", len(got))
	}
}

// A deliver_sm gosmpp's codec cannot read (esm_class says UDH, the bytes are none) is
// kept in the rejected stream and answered; the bind stays up for the next message.
func TestUnreadableDeliverSMDoesNotHoldTheBind(t *testing.T) {
	sink := channelstest.NewSink()
	r := start(t, sink, smsctest.Options{}, smpp.Options{})
	bad := single("Hello, no UDH here")
	bad.EsmClass |= 0x40
	b := pdu.NewBuffer(nil)
	bad.Marshal(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := r.conn.DeliverRaw(ctx, b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if st := <-resp; st != data.ESME_ROK {
		t.Fatalf("status %v", st)
	}
	if rej := sink.Rejected(); len(rej) != 1 || rej[0].Reason != record.ReasonUnparseable || len(rej[0].Raw) == 0 {
		t.Fatalf("rejections %+v", rej)
	}
	if st := deliver(t, r.conn, single("Pesan berikutnya")); st != data.ESME_ROK || len(sink.Accepted()) != 1 {
		t.Fatalf("next message on the same bind: %v, %d records", st, len(sink.Accepted()))
	}
	if r.srv.Binds() != 1 {
		t.Fatalf("%d binds: the connection was dropped", r.srv.Binds())
	}
}
