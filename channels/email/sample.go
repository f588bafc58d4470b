package email

import (
	"context"
	"fmt"
	"time"

	"github.com/emersion/go-message/mail"
)

// DefaultSampleText is the complaint `intake simulate email` sends when given no text.
const DefaultSampleText = "Selamat siang, jalan di depan SDN 3 Sukamaju rusak parah dan berlubang sejak dua minggu. Mohon segera diperbaiki sebelum ada korban. Terima kasih."

// SampleMail returns a complete, well-formed complaint mail with text as its body (the
// default sample when empty): a made-up citizen writing to a made-up agency mailbox, a
// fresh Message-ID, so each sample is a new complaint.
func SampleMail(text string) []byte {
	if text == "" {
		text = DefaultSampleText
	}
	var h mail.Header
	h.SetDate(time.Now())
	h.SetAddressList("From", []*mail.Address{{Name: "Warga Contoh", Address: "warga.contoh@example.com"}})
	h.SetAddressList("To", []*mail.Address{{Name: "Pengaduan", Address: "pengaduan@example.go.id"}})
	h.SetSubject("Aduan: jalan rusak (simulasi)")
	h.SetMessageID(newMessageID("sample", "warga.contoh@example.com"))
	raw, err := plainTextMail(h, text)
	if err != nil {
		panic(err) // only on a bad header, which the code above never builds
	}
	return raw
}

// AppendSample APPENDs raw to the mailbox's inbox folder (mb.Mailbox), as a mail server
// delivering it would: the running gateway then takes it in. Used by `intake simulate
// email` and by tests.
func AppendSample(ctx context.Context, mb Mailbox, raw []byte) error {
	mb = mb.withDefaults()
	c, err := dialIMAP(ctx, mb, nil, nil)
	if err != nil {
		return fmt.Errorf("mailbox %s: %w", mb.Name, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	tokens := tokenSource(ctx, mb, "")
	if err := authenticate(c, mb, tokens); err != nil {
		return fmt.Errorf("mailbox %s: %w", mb.Name, err)
	}
	cmd := c.Append(mb.Mailbox, int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		_ = cmd.Close()
		return fmt.Errorf("mailbox %s: append: %w", mb.Name, err)
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("mailbox %s: append: %w", mb.Name, err)
	}
	if _, err := cmd.Wait(); err != nil {
		return fmt.Errorf("mailbox %s: append: %w", mb.Name, err)
	}
	_ = c.Logout().Wait()
	return nil
}
