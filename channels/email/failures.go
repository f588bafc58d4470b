package email

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/lapor/intake/record"
)

// A mail that cannot be taken in (its temporary file cannot be written, a panic while it
// is handled) must not block the mail behind it (CONTRACT §10). The session goes on
// without it: the mails behind it are taken in and moved, the cursor waits in front of it,
// and it is tried again after retryDelay. After maxAttempts failures it is set aside: a
// rejected entry (reason unreadable, the first bytes of the mail) and a move to the
// failed folder, and the cursor passes it. A lost connection or a Sink outage is not the
// mail's fault and counts for nothing.
const (
	maxAttempts = 3
	retryDelay  = 2 * time.Second
	// setAsidePrefix is how much of a set-aside mail the rejected entry keeps.
	setAsidePrefix = 64 << 10
)

// ReasonUnreadable: a mail that could not be taken in after maxAttempts tries.
const ReasonUnreadable = "unreadable"

// mailError is a failure to take in one mail that is the mail's (or this host's) fault,
// not the connection's: the session goes on.
type mailError struct{ error }

func (e mailError) Unwrap() error { return e.error }

// failed counts a failed attempt at uid.
func (p *poller) failed(uid imap.UID, err error) {
	if p.failures == nil {
		p.failures = map[imap.UID]failure{}
	}
	f := p.failures[uid]
	f.attempts++
	f.err = err
	p.failures[uid] = f
	p.log.Warn("mail not taken in; trying again", "uid", uint32(uid), "attempt", f.attempts, "of", maxAttempts, "err", err)
}

type failure struct {
	attempts int
	err      error
}

// forgetFailures drops the counts of mails no longer waiting (taken in, or gone).
func (p *poller) forgetFailures(waiting []imap.UID) {
	if len(p.failures) == 0 {
		return
	}
	still := make(map[imap.UID]bool, len(waiting))
	for _, uid := range waiting {
		still[uid] = true
	}
	for uid := range p.failures {
		if !still[uid] {
			delete(p.failures, uid)
		}
	}
}

// retrying reports whether a failed mail waits for another attempt.
func (p *poller) retrying() bool { return len(p.failures) > 0 }

// exhausted reports whether uid has failed maxAttempts times.
func (p *poller) exhausted(uid imap.UID) bool { return p.failures[uid].attempts >= maxAttempts }

// setAsideMail keeps a rejected entry for uid and moves it to the failed folder. It
// returns an error only when the rejection cannot be made durable (the caller ends the
// session, as for any Sink outage); a refused move is logged and retried with leftovers.
func (p *poller) setAsideMail(ctx context.Context, c *imapclient.Client, uid imap.UID) error {
	f := p.failures[uid]
	raw, ferr := fetchPrefix(c, uid)
	if ferr != nil {
		p.log.Warn("first bytes of a mail set aside not readable; rejected without them", "uid", uint32(uid), "err", ferr)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), acceptTimeout)
	defer cancel()
	rej := &record.Rejection{Reason: ReasonUnreadable, Channel: record.ChannelEmail, Provider: record.ProviderIMAP,
		Detail:            fmt.Sprintf("not taken in after %d attempts: %v; the mail is in the %q folder", f.attempts, f.err, p.mb.FailedMailbox),
		ProviderMessageID: p.syntheticID(uid), Raw: raw}
	if err := p.sink.Reject(rctx, rej); err != nil {
		return fmt.Errorf("reject unreadable mail: %w", err)
	}
	delete(p.failures, uid)
	if p.setAside == nil {
		p.setAside = map[imap.UID]bool{}
	}
	p.setAside[uid] = true
	p.log.Error("mail set aside after repeated failures; kept in the rejected stream", "uid", uint32(uid),
		"attempts", f.attempts, "folder", p.mb.FailedMailbox, "err", f.err)
	return nil
}

// fetchPrefix reads the first setAsidePrefix bytes of uid.
func fetchPrefix(c *imapclient.Client, uid imap.UID) ([]byte, error) {
	section := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: setAsidePrefix}}
	cmd := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	var raw []byte
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			if it, ok := item.(imapclient.FetchItemDataBodySection); ok && it.Literal != nil && raw == nil {
				b, err := io.ReadAll(io.LimitReader(it.Literal, setAsidePrefix))
				if err != nil {
					_ = cmd.Close()
					return nil, err
				}
				raw = b
			}
		}
	}
	return raw, cmd.Close()
}
