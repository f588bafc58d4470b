package client_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/client"
)

const followUpRecord = `{"schema_version":1,"id":"01J9Z3","reference":"7KQ2-9XMD","channel":"whatsapp","kind":"follow_up",` +
	`"follow_up_of":{"id":"01J9Z1","reference":"4ABC-DEFG"},"citizen_id":"c_x","agency":"PU","received_at":"2026-12-05T08:00:00Z","body":"Belum diperbaiki"}`

func TestDecodeComplaint(t *testing.T) {
	c, err := client.DecodeComplaint(client.Entry{ID: "1-0", Values: map[string]string{"id": "01J9Z3", "channel": "whatsapp", "complaint": followUpRecord}})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "01J9Z3" || c.Reference != "7KQ2-9XMD" || c.Channel != "whatsapp" || c.Kind != client.KindFollowUp ||
		c.FollowUpOf == nil || c.FollowUpOf.Reference != "4ABC-DEFG" || c.CitizenID != "c_x" || c.Agency != "PU" ||
		!c.ReceivedAt.Equal(time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)) || string(c.Record) != followUpRecord {
		t.Fatalf("decoded %+v", c)
	}
	old, err := client.DecodeComplaint(client.Entry{Values: map[string]string{"complaint": `{"schema_version":1,"id":"A","channel":"sms"}`}})
	if err != nil || old.Kind != client.KindComplaint {
		t.Fatalf("record without kind: %+v, %v; want kind complaint", old, err)
	}
}

func TestDecodeComplaintErrorsArePermanent(t *testing.T) {
	for _, tc := range []struct {
		values map[string]string
		want   string
	}{
		{map[string]string{"delivery": "{}"}, "no complaint field"},
		{map[string]string{"complaint": "{"}, "not a JSON record"},
		{map[string]string{"complaint": `{"schema_version":1}`}, "has no id"},
		{map[string]string{"id": "B", "complaint": `{"schema_version":1,"id":"A"}`}, "differ"},
		{map[string]string{"complaint": `{"schema_version":2,"id":"A"}`}, "newer than this client"},
	} {
		_, err := client.DecodeComplaint(client.Entry{ID: "1-0", Stream: "intake:complaints", Values: tc.values})
		if !client.IsPermanent(err) || !errors.Is(err, client.ErrDecode) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeComplaint(%v) = %v, want a permanent decode error saying %q", tc.values, err, tc.want)
		}
	}
}

func TestDecodeDelivery(t *testing.T) {
	raw := `{"outbound_id":"ans-1","complaint_id":"01J9Z3","channel":"sms","provider":"smpp","provider_message_id":"m1",` +
		`"state":"failed","error":{"code":"0x45","class":"permanent","detail":"number unknown"},"at":"2026-12-05T08:01:00Z"}`
	d, err := client.DecodeDelivery(client.Entry{Values: map[string]string{"delivery": raw}})
	if err != nil {
		t.Fatal(err)
	}
	if d.OutboundID != "ans-1" || d.ComplaintID != "01J9Z3" || d.Provider != "smpp" || d.State != client.StateFailed ||
		d.Error == nil || d.Error.Class != "permanent" || d.At.IsZero() {
		t.Fatalf("decoded %+v", d)
	}
	for _, bad := range []map[string]string{{"complaint": "{}"}, {"delivery": "nope"}, {"delivery": `{"state":"sent"}`}} {
		if _, err := client.DecodeDelivery(client.Entry{Values: bad}); !client.IsPermanent(err) || !errors.Is(err, client.ErrDecode) {
			t.Errorf("DecodeDelivery(%v) = %v, want a permanent decode error", bad, err)
		}
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("x")
	if client.Permanent(nil) != nil {
		t.Fatal("Permanent(nil) != nil")
	}
	p := client.Permanent(base)
	if !client.IsPermanent(p) || !errors.Is(p, base) || client.IsPermanent(base) || p.Error() != "x" {
		t.Fatalf("Permanent(%v) = %v", base, p)
	}
	if !client.IsPermanent(errors.Join(errors.New("ctx"), p)) {
		t.Fatal("a wrapped permanent error is not seen")
	}
}
