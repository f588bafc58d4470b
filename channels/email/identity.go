package email

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strconv"
	"strings"

	"github.com/lapor/intake/record"
)

// A mail's identity. The Message-ID is chosen by the sender, so anyone can claim someone
// else's: it is kept as the record's provider_message_id, but a repeat is recognised by
// what the mail carries identically in every mailbox it reaches (CONTRACT §10): its
// Message-ID, From address, Date, Subject and the bytes of its body. The header block as a
// whole is not hashed: Received, Delivered-To and Return-Path differ per mailbox.
//
// Dedupe keys live in two namespaces that no header can reach:
//
//	c:<sha256>    content: the same mail re-read, or delivered to two mailboxes, is one record
//	uid:<sha256>  a mail with neither Message-ID nor Date: its mailbox, UIDVALIDITY and UID
//	              (identical content without either could be two honest complaints sent
//	              minutes apart, so only a re-read of the same message is one record)

// maxMessageIDLen: a longer Message-ID is replaced by its hash (it is also a Redis key).
const maxMessageIDLen = 256

// syntheticSuffix ends the ids the gateway makes for mail without a Message-ID; a header
// claiming one is ignored.
const syntheticSuffix = "@intake.invalid"

// providerMessageID is the record's provider_message_id from a raw Message-ID header
// value: without angle brackets, never RFC 2047-decoded; "" when missing or when it claims
// the gateway's own namespace; "sha256:<hex>" when too long or holding control
// characters, so it is safe in logs, JSON and Redis keys.
func providerMessageID(header string) string {
	id := strings.Trim(strings.TrimSpace(header), "<>")
	if id == "" || strings.HasSuffix(strings.ToLower(id), syntheticSuffix) {
		return ""
	}
	if len(id) > maxMessageIDLen || strings.IndexFunc(id, isControl) >= 0 {
		sum := sha256.Sum256([]byte(id))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	return id
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// contentKey is the dedupe key of a decoded mail whose body digest is body, or "" when
// the mail has neither Message-ID nor Date (the caller then uses uidKey).
func contentKey(m *record.Message, body [32]byte) string {
	msgID, date := m.Header("Message-Id"), m.Header("Date")
	if strings.TrimSpace(msgID) == "" && strings.TrimSpace(date) == "" {
		return ""
	}
	h := sha256.New()
	for _, v := range []string{
		strings.TrimSpace(msgID),
		strings.ToLower(strings.TrimSpace(m.Sender.Email)),
		strings.TrimSpace(date),
		strings.TrimSpace(m.Header("Subject")),
	} {
		// length-prefixed, so no value can run into the next
		h.Write([]byte(strconv.Itoa(len(v)) + ":" + v + "\n"))
	}
	h.Write(body[:])
	return "c:" + hex.EncodeToString(h.Sum(nil))
}

// uidKey is the dedupe key of a mail known only by its place: the synthetic id.
func uidKey(synthetic string) string {
	sum := sha256.Sum256([]byte(synthetic))
	return "uid:" + hex.EncodeToString(sum[:])
}

// bodyDigest hashes the bytes after the header block of the mail in src (size bytes).
func bodyDigest(src io.ReaderAt, size int64) [32]byte {
	br := bufio.NewReaderSize(io.NewSectionReader(src, 0, size), 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if err == nil && len(bytes.TrimRight(line, "\r\n")) == 0 {
			break // the blank line ending the header block
		}
		if err != nil && err != bufio.ErrBufferFull {
			return sha256.Sum256(nil) // no body at all
		}
	}
	h := sha256.New()
	_, _ = br.WriteTo(h)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// headerOnlyDigest stands for the body of a mail taken in from its header alone: the
// body's length (the mail's size less its header block), the same in every mailbox.
func headerOnlyDigest(header []byte, size int64) [32]byte {
	n := size - int64(len(headerBlock(header)))
	return sha256.Sum256([]byte("header-only:" + strconv.FormatInt(n, 10)))
}

// headerBlock is header up to and including the blank line that ends it.
func headerBlock(b []byte) []byte {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return b[:i+4]
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return b[:i+2]
	}
	return b
}
