package normalizer

import "testing"

func TestIsMarkerLine(t *testing.T) {
	yes := []string{
		"On Tue, Nov 24, 2026 at 3:05 PM Budi <b@example.com> wrote:",
		"On 24/11/2026 15:05, Budi wrote:",
		"At 6/16/2026 08:32 PM, you wrote:",
		"> On Mon, 5 May 2026, Budi <b@example.com> wrote:",
		"Pada Sel, 24 Nov 2026 pukul 09.12 Budi <b@example.com> menulis:",
		"Pada tanggal Kam, 19 Nov 2026 10.41 Budi <b@example.com> menulis:",
		"Pada Senin, 23 November 2026 16.20.01 WIB, Humas <h@example.go.id> menulis:",
		"Le 19 mars 2026 10:37, Budi <b@example.com> a écrit :",
		"El 19/03/2026 11:34, Budi <b@example.com> escribió:",
		"El 19/03/2026 11:34, Budi <b@example.com> ha escrit:",
		"Em 2 de fevereiro de 2026 10:58, Budi <b@example.com> escreveu:",
		"Il 26 marzo 2026 alle 13.16 Budi <b@example.com> ha scritto:",
		"Am 25.06.2026 um 10:55 schrieb Budi:",
		"Budi <b@example.com> schrieb am Di., 16. Aug. 2026 um 12:52 Uhr:",
		"Op 10 dec. 2026 18:35 schreef \"Budi\" <b@example.com>:",
		"Den 08/06/2026 kl. 21.21 skrev Budi <b@example.com>:",
		"W dniu 2026-01-07 14:23, budi@example.com pisze:",
		"23 mar 2026 21:25 \"Budi\" <b@example.com> napisał(a):",
		"29 грудня 2026 р. о 19:09 <b@example.com> написав:",
		"2026. 11. 8. 오후 12:39 Budi <b@example.com> 작성:",
		"ср, 30 апр. 2026 г. в 15:19, Budi <b@example.com>:",
		"2026-11-24 16:32 GMT+07:00 Budi <b@example.com>:",
		"2026-03-03 17:21 GMT+01:00 Budi",
		"Budi <b@example.com> wrote:",
		"budi via Forum Warga wrote:",
		"---- Budi wrote ----",
		"-----Original Message-----",
		"----- Original Message -----",
		"-----Pesan Asli-----",
		"---------- Pesan terusan ---------",
		"---------- Forwarded message ---------",
		"------------------ 原始邮件 ------------------",
		"Begin forwarded message:",
		"Posted by budi on 01/21/2026",
	}
	no := []string{
		"On the other hand, the road is still broken.",
		"On Monday I went to the office.",
		"Pada hari Senin saya melapor.",
		"Saya sudah menulis:",
		"He wrote:",
		"https://example.com/someone-wrote:",
		"2026-01-15 14:30:25",
		"Original message",
		"Jalan rusak sejak 2026, mohon diperbaiki.",
		"",
	}
	for _, s := range yes {
		if !isMarkerLine(s, false) {
			t.Errorf("isMarkerLine(%q) = false, want true", s)
		}
	}
	for _, s := range no {
		if isMarkerLine(s, false) {
			t.Errorf("isMarkerLine(%q) = true, want false", s)
		}
	}
	// a date and an address without a colon: only before a quote
	s := "2026/7/20 budi via Forum <b@example.com>"
	if isMarkerLine(s, false) || !isMarkerLine(s, true) {
		t.Errorf("isMarkerLine(%q): want true only before a quote", s)
	}
}

func TestCanStartAttribution(t *testing.T) {
	for s, want := range map[string]bool{
		"On Tue, Nov 24, 2026 at 3:05 PM Budi <b@example.com>":     true,
		"Pada Sel, 24 Nov 2026 pukul 09.12 Budi <b@example.com>":   true,
		"Budi <b@example.com> schrieb am Fr., 28.":                 true,
		"Em 10 de julho de 2026 às 16:32:35, Budi (":               true,
		"Saya bayar Rp 50.000 kemarin.":                            false,
		"The idea from @budi might be it. Regretfully I only have": false,
		"Terima kasih":      false,
		"Berapa lama lagi?": false,
	} {
		if got := canStartAttribution(s); got != want {
			t.Errorf("canStartAttribution(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestHeaderRole(t *testing.T) {
	for s, want := range map[string]byte{
		"From: Budi <b@example.com>":       'f',
		"Dari: Budi":                       'f',
		"*From:* Budi":                     'f',
		"De : Budi":                        'f',
		"Von: Budi":                        'f',
		"发件人: Budi":                        'f',
		"Sent: Monday, 5 May 2026":         'd',
		"Dikirim: Senin, 23 November 2026": 'd',
		"Tanggal: 23/11/2026":              'd',
		"Envoyé le :jeudi 15 décembre":     'd',
		"To: Budi":                         'o',
		"Kepada: Budi":                     'o',
		"Subjek: Laporan":                  'o',
		"Perihal: Laporan":                 'o',
		"Betreff: x":                       'o',
		"Alamat: Jl. Mawar":                0,
		"Jalan rusak: parah":               0,
		"":                                 0,
	} {
		if got := headerRole(s); got != want {
			t.Errorf("headerRole(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestQuotePrefixLen(t *testing.T) {
	for s, want := range map[string]int{
		"> a":         2,
		">> a":        3,
		"> > a":       4,
		"  > a":       4,
		"| a":         2,
		"Budi> a":     6,
		"C> a":        3,
		">":           1,
		"a > b":       0,
		"<b@x.com>":   0,
		">50 cm":      0,
		"| a | b |":   0,
		"Jalan rusak": 0,
		"":            0,
	} {
		if got := quotePrefixLen(s); got != want {
			t.Errorf("quotePrefixLen(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestIsBareVerbAndLoneOpener(t *testing.T) {
	for _, s := range []string{"wrote:", "> wrote:", "menulis:", "a écrit :", "het volgende geschreven:", "napisał(a):"} {
		if !isBareVerb(s) {
			t.Errorf("isBareVerb(%q) = false", s)
		}
	}
	for _, s := range []string{"Budi wrote:", "menulis surat", ""} {
		if isBareVerb(s) {
			t.Errorf("isBareVerb(%q) = true", s)
		}
	}
	for _, s := range []string{"Pada", "On", " Le "} {
		if !isLoneOpener(s) {
			t.Errorf("isLoneOpener(%q) = false", s)
		}
	}
	if isLoneOpener("Pada hari") {
		t.Error("isLoneOpener(\"Pada hari\") = true")
	}
}
