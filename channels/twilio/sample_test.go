package twilio

import "testing"

// The sample `intake simulate sms` sends is an SMS the channel takes.
func TestSampleFormDecodes(t *testing.T) {
	form := SampleForm("Jalan rusak", Sample{MessageID: "SM0123", From: "+6281234567801", To: "+6281190001708"})
	m, _, err := Decode(form, []byte(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if m.ProviderMessageID != "SM0123" || m.Text != "Jalan rusak" {
		t.Fatalf("decoded %q %q", m.ProviderMessageID, m.Text)
	}
}
