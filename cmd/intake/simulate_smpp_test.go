package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/channels/smpp"
	"github.com/lapor/intake/internal/testenv"
)

// `intake simulate sms --smpp` plays the SMSC: the gateway's channel binds to it, gets the
// deliver_sm, answers it and sends the receipt, which simulate prints.
func TestSimulateSMSOverSMPP(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- simulateCmd(context.Background(), []string{"sms", "--smpp", "--smsc-addr", addr, "--system-id", "intake",
			"--password", "dev", "--wait", "20s", "Lampu jalan mati"}, &out, &out)
	}()
	sink := channelstest.NewSink()
	ch, err := smpp.New(smpp.Config{Binds: []smpp.Bind{{Addr: addr, SystemID: "intake", Password: "dev", SourceAddr: "1708"}}}, sink,
		smpp.Options{Parts: smpp.NewMemoryPartStore(), Receipts: channels.Receipts{Enabled: true, PerCitizen: 10},
			RebindMin: 10 * time.Millisecond, RebindMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = ch.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	if err := <-done; err != nil {
		t.Fatalf("simulate: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"gateway bound as transceiver", "deliver_sm_resp ESME_ROK (0x00)", "receipt by submit_sm: Terima kasih, aduan Anda telah kami terima dengan nomor REF1-X."} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if m := sink.Accepted(); len(m) != 1 || m[0].Text != "Lampu jalan mati" || m[0].Recipient != "1708" {
		t.Fatalf("accepted %+v", m)
	}
}
