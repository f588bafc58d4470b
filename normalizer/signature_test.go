package normalizer

import "testing"

func TestIsMobileSignature(t *testing.T) {
	yes := []string{
		"Dikirim dari iPhone saya",
		"Dikirim dari Yahoo Mail di Android",
		"Dikirim dari ponsel cerdas Samsung Galaxy saya.",
		"Dikirim dari Outlook untuk Android",
		"Dikirim dari perangkat Huawei saya",
		"Terkirim dari Mail untuk Windows",
		"Dapatkan Outlook untuk Android",
		"Sent from my iPhone",
		"Sent from my iPad",
		"Sent from my Verizon Wireless BlackBerry",
		"Sent from Samsung Mobile",
		"Sent from Yahoo Mail on Android",
		"Sent from Mail for Windows 10",
		"Sent from Outlook for Android<https://aka.example.com/x>",
		"Sent from Outlook Mobile<https://example.com>",
		"Sent from TypeApp<http://www.example.com/r?b=1>",
		"Sent via mobile",
		"Sent with Airmail",
		"(Sent from mobile device)",
		"Get Outlook for iOS",
		"Get Outlook for iOShttps://aka.example.com/o0ukef",
		"Get [Outlook for Android](https://aka.example.com/x)",
		"Envoyé depuis mon iPhone",
		"Envoyé à partir de Outlook pour iOS<https://aka.example.com/x>",
		"Von meinem iPhone gesendet",
		"Gesendet von Outlook für Android<https://aka.example.com/x>",
		"Diese Nachricht wurde von meinem Android-Mobiltelefon mit K-9 Mail gesendet.",
		"Enviado desde mi iPhone",
		"Enviado do meu iPhone",
		"Inviato da iPhone",
		"Verzonden met BlackBerry Work",
		"Sendt fra min iPad",
		"從我的 iPhone 傳送",
	}
	no := []string{
		"Sent from my desk, is much easier than my mobile phone.",
		"Sent from my HTC phone. Please excuse typos and the weather in Bogor today",
		"Surat sudah dikirim dari kantor kelurahan kemarin sore.",
		"Dikirim dari rumah sakit ke puskesmas, lalu kembali lagi ke rumah sakit karena penuh",
		"The notification was sent from my iPhone app to all users.",
		"Sent",
		"",
	}
	for _, s := range yes {
		if !isMobileSignature(s) {
			t.Errorf("isMobileSignature(%q) = false, want true", s)
		}
	}
	for _, s := range no {
		if isMobileSignature(s) {
			t.Errorf("isMobileSignature(%q) = true, want false", s)
		}
	}
}

func TestDelimiterKind(t *testing.T) {
	for s, want := range map[string]int{
		"-- ":                              1,
		"--":                               1,
		"__":                               1,
		"________________________________": 1,
		" ------------------------------":  2,
		"=====":                            2,
		"***":                              2,
		"~~~~~":                            2,
		"—————":                            2,
		"—":                                0,
		"-":                                0,
		"-- text":                          0,
		"This is not a ---- rule":          0,
		"":                                 0,
	} {
		if got := delimiterKind(s); got != want {
			t.Errorf("delimiterKind(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestIsInvisibleLine(t *testing.T) {
	for s, want := range map[string]bool{"": true, " \t": true, "\u00a0": true, "ᐧ": true, "\u200b": true, "a": false, ">": false} {
		if got := isInvisibleLine(s); got != want {
			t.Errorf("isInvisibleLine(%q) = %v", s, got)
		}
	}
}

func TestIsDashSignOff(t *testing.T) {
	for s, want := range map[string]bool{"-Budi": true, "-Abhishek Kona": true, "- Budi": false, "-beli obat ke apotek dekat rumah sakit umum daerah": false, "--Budi": false} {
		if got := isDashSignOff(s); got != want {
			t.Errorf("isDashSignOff(%q) = %v", s, got)
		}
	}
}
