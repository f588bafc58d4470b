package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"golang.org/x/oauth2"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/record"
)

const (
	// shutdownGrace is how long a poller may finish the mail in hand (make it durable,
	// move it) after its context ends, before the connection is cut.
	shutdownGrace = 10 * time.Second
	// acceptTimeout bounds one Sink call.
	acceptTimeout = time.Minute
	// healthyAfter: a session that lasted this long resets the backoff.
	healthyAfter = 30 * time.Second
)

var errConnClosed = errors.New("imap connection closed")

// poller reads one mailbox.
type poller struct {
	mb       Mailbox
	sink     channels.Sink
	state    StateStore
	opts     Options
	log      *slog.Logger
	receipts *receiptSender
	// wake is signalled (never blocking) when the server reports new messages.
	wake chan struct{}
	// tokens refreshes the XOAUTH2 access token (nil until first needed).
	tokens oauth2.TokenSource
	// refreshToken is the newest refresh token seen (rotated by the provider).
	refreshToken string

	// The cursor, also kept in memory so a Redis outage costs nothing but a rescan.
	known    bool
	validity uint32
	lastUID  uint32

	// failures counts failed attempts per UID (failures.go); setAside holds the UIDs moved
	// to the failed folder. Both are for the current UIDVALIDITY.
	failures map[imap.UID]failure
	setAside map[imap.UID]bool

	// Test hooks standing for a process killed at that point: afterDurable runs once a
	// mail's record or rejection is durable, beforeMove after the cursor is saved and
	// before durable mail is moved. An error ends the session right there.
	afterDurable func(uid imap.UID) error
	beforeMove   func(uids []imap.UID) error
}

// abortError ends a session at once, skipping the cursor and the move (test hooks).
type abortError struct{ error }

func newPoller(mb Mailbox, sink channels.Sink, state StateStore, opts Options, rs *receiptSender) *poller {
	return &poller{mb: mb, sink: sink, state: state, opts: opts, receipts: rs,
		log:  opts.Logger.With("channel", record.ChannelEmail, "mailbox", mb.Label),
		wake: make(chan struct{}, 1)}
}

// run polls the mailbox until ctx ends: at once without leases, else whenever this
// process holds the mailbox's lease (lease.go).
func (p *poller) run(ctx context.Context) {
	if p.opts.Leases == nil {
		p.runSessions(ctx)
		return
	}
	p.runLeased(ctx)
}

// runSessions keeps a session open until ctx ends, reconnecting with exponential backoff
// and jitter.
func (p *poller) runSessions(ctx context.Context) {
	p.opts.Metrics.MailboxUp(p.mb.Label, false)
	delay := p.opts.BackoffMin
	for {
		start := time.Now()
		err := p.session(ctx)
		p.opts.Metrics.MailboxUp(p.mb.Label, false)
		if ctx.Err() != nil {
			p.log.Info("mailbox poller stopped")
			return
		}
		if time.Since(start) >= healthyAfter {
			delay = p.opts.BackoffMin
		}
		wait := delay/2 + rand.N(delay/2+1)
		p.log.Warn("mailbox disconnected; reconnecting", "err", err, "retry_in", wait.Round(time.Millisecond).String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			p.log.Info("mailbox poller stopped")
			return
		case <-t.C:
		}
		delay = min(delay*2, p.opts.BackoffMax)
	}
}

// session connects, selects the inbox and processes mail until ctx ends or the
// connection fails.
func (p *poller) session(ctx context.Context) error {
	c, err := p.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		// When ctx ends, the mail in hand may finish; a stuck server is cut off.
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		t := time.NewTimer(shutdownGrace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			_ = c.Close()
		}
	}()

	p.ensureFolder(c, p.mb.ProcessedMailbox)
	p.ensureFolder(c, p.mb.FailedMailbox)
	sel, err := c.Select(p.mb.Mailbox, nil).Wait()
	if err != nil {
		return fmt.Errorf("select %q: %w", p.mb.Mailbox, err)
	}
	p.loadCursor(ctx, sel.UIDValidity)
	idle := !p.mb.DisableIdle && (c.Caps().Has(imap.CapIdle) || c.Caps().Has(imap.CapIMAP4rev2))
	p.opts.Metrics.MailboxUp(p.mb.Label, true)
	p.log.Info("mailbox connected", "idle", idle, "messages", sel.NumMessages,
		"uidvalidity", sel.UIDValidity, "last_uid", p.lastUID)
	for {
		if err := p.sync(ctx, c); err != nil {
			return err
		}
		if ctx.Err() != nil {
			break
		}
		if err := p.wait(ctx, c, idle); err != nil {
			return err
		}
		if ctx.Err() != nil {
			break
		}
	}
	_ = c.Logout().Wait()
	return nil
}

// wait blocks until new mail is announced, the poll interval passes, or ctx ends.
func (p *poller) wait(ctx context.Context, c *imapclient.Client, idle bool) error {
	wait := p.mb.PollInterval
	if p.retrying() {
		wait = min(wait, retryDelay)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var cmd *imapclient.IdleCommand
	if idle {
		var err error
		if cmd, err = c.Idle(); err != nil {
			return fmt.Errorf("idle: %w", err)
		}
	}
	select {
	case <-ctx.Done():
	case <-timer.C:
	case <-p.wake:
	case <-c.Closed():
		return errConnClosed
	}
	if cmd == nil {
		return nil
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	return nil
}

// loadCursor reads the mailbox's cursor (memory wins over a store that lags or fails)
// and starts over when UIDVALIDITY changed.
func (p *poller) loadCursor(ctx context.Context, validity uint32) {
	v, last := p.validity, p.lastUID
	if p.state != nil {
		sv, sl, err := p.state.MailboxState(ctx, p.mb.StateKey())
		switch {
		case err != nil:
			p.log.Warn("mailbox state unreadable; using what this process knows", "err", err)
		case !p.known || sv != v || sl > last:
			v, last = sv, sl
		}
	}
	if v != validity {
		if v != 0 {
			p.log.Warn("UIDVALIDITY changed: rescanning the whole mailbox; mail already taken in is dropped as duplicate by its content key",
				"old_uidvalidity", v, "uidvalidity", validity)
		}
		last = 0
	}
	if validity != p.validity {
		p.failures, p.setAside = nil, nil
	}
	p.known, p.validity, p.lastUID = true, validity, last
	p.saveCursor(ctx)
}

func (p *poller) saveCursor(ctx context.Context) {
	if p.state == nil {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := p.state.SetMailboxState(sctx, p.mb.StateKey(), p.validity, p.lastUID); err != nil {
		p.log.Warn("mailbox state not saved; mail may be fetched again (and dropped as duplicate)", "err", err)
	}
}

// sync takes in every message of the inbox above the cursor, in batches, and moves out
// those at or below it (durable, but not yet moved when the last session ended).
func (p *poller) sync(ctx context.Context, c *imapclient.Client) error {
	data, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	uids := data.AllUIDs()
	slices.Sort(uids)
	var leftovers, fresh []imap.UID
	for _, uid := range uids {
		if uint32(uid) <= p.lastUID {
			leftovers = append(leftovers, uid)
		} else {
			fresh = append(fresh, uid)
		}
	}
	p.forgetFailures(fresh)
	if len(leftovers) > 0 {
		var processed, failed []imap.UID
		for _, uid := range leftovers {
			if p.setAside[uid] {
				failed = append(failed, uid)
			} else {
				processed = append(processed, uid)
			}
		}
		p.log.Info("moving mail taken in before but not yet moved", "count", len(leftovers))
		if err := p.move(c, processed, p.mb.ProcessedMailbox); err != nil {
			return err
		}
		if err := p.move(c, failed, p.mb.FailedMailbox); err != nil {
			return err
		}
	}
	for len(fresh) > 0 && ctx.Err() == nil {
		n := min(len(fresh), p.mb.BatchSize)
		if err := p.batch(ctx, c, fresh[:n]); err != nil {
			return err
		}
		fresh = fresh[n:]
	}
	return nil
}

// batch takes in one batch of messages (ascending UIDs): each is made durable through the
// Sink, the cursor advances over the durable prefix, then the durable ones are moved.
func (p *poller) batch(ctx context.Context, c *imapclient.Client, uids []imap.UID) error {
	t0 := time.Now()
	sizes, err := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return fmt.Errorf("fetch sizes: %w", err)
	}
	size := make(map[imap.UID]int64, len(sizes))
	var whole, headerOnly, failed []imap.UID
	for _, s := range sizes {
		size[s.UID] = s.RFC822Size
	}
	durable := make(map[imap.UID]bool, len(uids))
	for _, uid := range uids {
		s, ok := size[uid]
		switch {
		case !ok: // expunged by someone else meanwhile
		case p.exhausted(uid):
			if err := p.setAsideMail(ctx, c, uid); err != nil {
				return err
			}
			durable[uid] = true
			failed = append(failed, uid)
		case s > p.opts.Limits.MaxMessageBytes:
			headerOnly = append(headerOnly, uid)
		default:
			whole = append(whole, uid)
		}
	}
	t1 := time.Now()
	err = p.fetch(ctx, c, whole, false, size, durable)
	if err == nil {
		err = p.fetch(ctx, c, headerOnly, true, size, durable)
	}
	if errors.As(err, new(abortError)) {
		return err
	}
	// The cursor passes the durable UIDs up to the first that is not: that one, and any
	// the server did not return, are searched for again next time (mail that is really
	// gone is simply not found).
	for _, uid := range uids {
		if !durable[uid] {
			break
		}
		p.lastUID = uint32(uid)
	}
	t2 := time.Now()
	p.saveCursor(ctx)
	t3 := time.Now()
	defer func() {
		p.log.Debug("batch taken in", "count", len(uids), "sizes", t1.Sub(t0).String(), "fetch", t2.Sub(t1).String(), "cursor", t3.Sub(t2).String(), "move", time.Since(t3).String())
	}()
	var moving []imap.UID
	for _, uid := range uids {
		if durable[uid] && !p.setAside[uid] {
			moving = append(moving, uid)
		}
	}
	if len(moving) > 0 {
		if p.beforeMove != nil {
			if herr := p.beforeMove(moving); herr != nil {
				return herr
			}
		}
		if merr := p.move(c, moving, p.mb.ProcessedMailbox); merr != nil && err == nil {
			err = merr
		}
	}
	if merr := p.move(c, failed, p.mb.FailedMailbox); merr != nil && err == nil {
		err = merr
	}
	return err
}

// fetch streams BODY.PEEK[] (or only the header) of uids and hands each message to the
// Sink. Up to Options.Workers mails are decoded and made durable at once (the queue
// writes concurrent records in one round trip), within a budget of bytes in memory; the
// IMAP stream waits while the budget is spent.
func (p *poller) fetch(ctx context.Context, c *imapclient.Client, uids []imap.UID, headerOnly bool, size map[imap.UID]int64, durable map[imap.UID]bool) error {
	if len(uids) == 0 {
		return nil
	}
	section := &imap.FetchItemBodySection{Peek: true}
	if headerOnly {
		section.Specifier = imap.PartSpecifierHeader
	}
	cmd := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	type result struct {
		uid imap.UID
		err error
	}
	results := make(chan result, len(uids))
	budget := newBudget(p.opts.Workers, p.opts.MemoryBudget)
	var wg sync.WaitGroup
	var firstErr error
	collect := func(r result) {
		switch {
		case errors.As(r.err, new(mailError)):
			p.failed(r.uid, r.err)
		case r.err != nil:
			if firstErr == nil {
				firstErr = r.err
			}
		case firstErr != nil && errors.As(firstErr, new(abortError)):
			// killed: what became durable meanwhile is fetched again and deduplicated
		default:
			durable[r.uid] = true
			delete(p.failures, r.uid)
			if p.afterDurable != nil {
				if err := p.afterDurable(r.uid); err != nil {
					firstErr = abortError{err}
				}
			}
		}
	}
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		for drained := false; !drained; {
			select {
			case r := <-results:
				collect(r)
			default:
				drained = true
			}
		}
		if firstErr != nil || ctx.Err() != nil {
			continue // the rest is drained; it stays above the cursor
		}
		budget.acquireSlot()
		uid, mail, n, err := p.readMessage(msg, budget)
		if err != nil || uid == 0 {
			mail.discard()
			budget.release(n)
			switch {
			case errors.As(err, new(mailError)) && uid != 0:
				p.failed(uid, err) // the next mails go on; this one is tried again
			case err != nil:
				firstErr = fmt.Errorf("fetch: %w", err)
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer budget.release(n)
			defer mail.discard()
			results <- result{uid, p.handleSafe(ctx, uid, mail, headerOnly, size[uid])}
		}()
	}
	closeErr := cmd.Close()
	wg.Wait()
	close(results)
	for r := range results {
		collect(r)
	}
	if closeErr != nil && firstErr == nil {
		firstErr = fmt.Errorf("fetch: %w", closeErr)
	}
	return firstErr
}

// fetchedMail is one fetched mail: in memory, or, when large, in a temporary file (the
// decoder then reads it from there and only the decoded large parts take memory).
type fetchedMail struct {
	raw  []byte
	file *os.File
	size int64
}

func (m fetchedMail) discard() {
	if m.file != nil {
		_ = m.file.Close()
		_ = os.Remove(m.file.Name())
	}
}

// diskThreshold: a fetched mail larger than this goes to a temporary file.
const diskThreshold = 4 << 20

// readMessage reads one FETCH response: its UID and the body section, into a buffer of
// the literal's exact size (no growth copies) or, when large, into a temporary file,
// once the budget allows. n is the bytes taken from the budget; the caller releases them
// with the slot.
func (p *poller) readMessage(msg *imapclient.FetchMessageData, b *budget) (uid imap.UID, mail fetchedMail, n int64, err error) {
	// A local failure is kept until the whole response is read: the UID may come after
	// the body, and the stream must stay in step for the next mail.
	var local error
	for {
		item := msg.Next()
		if item == nil {
			if local != nil {
				return uid, mail, n, mailError{local}
			}
			return uid, mail, n, nil
		}
		switch it := item.(type) {
		case imapclient.FetchItemDataUID:
			uid = it.UID
		case imapclient.FetchItemDataBodySection:
			if it.Literal == nil || mail.raw != nil || mail.file != nil || local != nil {
				continue
			}
			size := it.Literal.Size()
			if hard := 2 * p.opts.Limits.MaxMessageBytes; size > hard {
				// The server sent far more than RFC822.SIZE announced: keep the start.
				size = hard
			}
			if size > diskThreshold {
				n = size * 3 / 4 // what its decoded parts will hold
				b.grow(n)
				f, err := os.CreateTemp(p.opts.TempDir, tempPattern)
				if err != nil {
					local = fmt.Errorf("temporary file for a large mail: %w", err)
				} else {
					mail.file, mail.size = f, size
					w := &fileWriter{f: f}
					if _, err := io.CopyN(w, it.Literal, size); err != nil {
						if w.err == nil {
							return uid, mail, n, err
						}
						local = fmt.Errorf("temporary file for a large mail: %w", w.err)
					}
				}
			} else {
				n = size
				b.grow(n)
				mail.raw, mail.size = make([]byte, size), size
				if _, err := io.ReadFull(it.Literal, mail.raw); err != nil {
					return uid, mail, n, err
				}
			}
			if _, err := io.Copy(io.Discard, it.Literal); err != nil {
				return uid, mail, n, err
			}
		}
	}
}

// fileWriter writes to a temporary file and remembers a write error (a full or read-only
// disk is the mail's problem here, not the connection's).
type fileWriter struct {
	f   *os.File
	err error
}

func (w *fileWriter) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// handleSafe is handle with a panic turned into a failure of this mail.
func (p *poller) handleSafe(ctx context.Context, uid imap.UID, mail fetchedMail, headerOnly bool, size int64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = mailError{fmt.Errorf("panic while taking the mail in: %v", r)}
		}
	}()
	return p.handle(ctx, uid, mail, headerOnly, size)
}

// handle decodes one mail and makes its record or rejection durable.
func (p *poller) handle(ctx context.Context, uid imap.UID, mail fetchedMail, headerOnly bool, size int64) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), acceptTimeout)
	defer cancel()
	synthetic := p.syntheticID(uid)
	var m *record.Message
	var err error
	raw := mail.raw
	switch {
	case headerOnly:
		m, err = decodeHeaderOnly(raw, size, p.opts.Limits)
	case mail.file != nil:
		m, err = decodeFile(mail.file, mail.size, p.opts.Limits)
		if m != nil {
			raw = m.Raw
		} else {
			raw = rawPrefix(mail.file, mail.size)
		}
	default:
		m, err = Decode(raw, p.opts.Limits)
	}
	if err != nil {
		id := headerMessageID(raw)
		if id == "" {
			id = synthetic
		}
		rej := &record.Rejection{Reason: record.ReasonUnparseable, Detail: err.Error(), Channel: record.ChannelEmail,
			Provider: record.ProviderIMAP, ProviderMessageID: id, Raw: raw}
		if err := p.sink.Reject(actx, rej); err != nil {
			return fmt.Errorf("reject unparseable mail: %w", err)
		}
		p.log.Warn("mail could not be parsed; kept in the rejected stream", "uid", uint32(uid), "size", len(raw))
		return nil
	}
	if m.ProviderMessageID == "" {
		m.ProviderMessageID = synthetic
	}
	var body [32]byte
	switch {
	case headerOnly:
		body = headerOnlyDigest(raw, size)
	case mail.file != nil:
		body = bodyDigest(mail.file, mail.size)
	default:
		body = bodyDigest(bytes.NewReader(raw), int64(len(raw)))
	}
	if m.DedupeKey = contentKey(m, body); m.DedupeKey == "" {
		m.DedupeKey = uidKey(synthetic)
	}
	if m.Recipient == "" && strings.Contains(p.mb.Username, "@") {
		m.Recipient = strings.ToLower(p.mb.Username)
	}
	if m.ChannelData == nil {
		m.ChannelData = map[string]any{}
	}
	m.ChannelData["mailbox"] = p.mb.Name
	out, err := p.sink.Accept(actx, m)
	if err != nil {
		return fmt.Errorf("accept mail: %w", err)
	}
	if p.receipts != nil {
		p.receipts.offer(m, out)
	}
	return nil
}

// syntheticID is the stable id of a mail without a Message-ID: its mailbox, UIDVALIDITY
// and UID (RFC 3501 §2.3.1.1: that triple never names another message).
func (p *poller) syntheticID(uid imap.UID) string {
	sum := sha256.Sum256([]byte(p.mb.StateKey()))
	return fmt.Sprintf("imap.%s.%d.%d@intake.invalid", hex.EncodeToString(sum[:6]), p.validity, uint32(uid))
}

// move takes durable mail out of the inbox: MOVE, or COPY + STORE \Deleted + UID EXPUNGE
// where MOVE is missing. Without UIDPLUS nothing is expunged (a plain EXPUNGE would also
// remove other \Deleted mail); the mail stays flagged \Deleted and is no longer searched.
// A server refusal (NO) is logged and retried on the next pass; a connection error ends
// the session.
func (p *poller) move(c *imapclient.Client, uids []imap.UID, folder string) error {
	if len(uids) == 0 {
		return nil
	}
	err := p.moveOnce(c, uids, folder)
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Code == imap.ResponseCodeTryCreate {
		p.ensureFolder(c, folder)
		err = p.moveOnce(c, uids, folder)
	}
	if errors.As(err, &ie) {
		p.log.Error("mail is durable but could not be moved out of the inbox; retrying on the next pass",
			"count", len(uids), "folder", folder, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("move: %w", err)
	}
	return nil
}

func (p *poller) moveOnce(c *imapclient.Client, uids []imap.UID, folder string) error {
	set := imap.UIDSetNum(uids...)
	caps := c.Caps()
	if caps.Has(imap.CapMove) || caps.Has(imap.CapIMAP4rev2) {
		_, err := c.Move(set, folder).Wait()
		return err
	}
	if _, err := c.Copy(set, folder).Wait(); err != nil {
		return err
	}
	if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		return err
	}
	if caps.Has(imap.CapUIDPlus) {
		return c.UIDExpunge(set).Close()
	}
	return nil
}

// ensureFolder creates folder when it does not exist. A failure is logged: intake goes
// on, and moving is retried.
func (p *poller) ensureFolder(c *imapclient.Client, folder string) {
	list, err := c.List("", folder, nil).Collect()
	if err == nil && len(list) > 0 {
		return
	}
	err = c.Create(folder, nil).Wait()
	var ie *imap.Error
	if err == nil || (errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists) {
		if err == nil {
			p.log.Info("created a folder", "folder", folder)
		}
		return
	}
	p.log.Error("cannot create a folder; mail is taken in but stays in the inbox", "folder", folder, "err", err)
}

// headerMessageID finds the Message-ID in a raw header block that could not be parsed
// as a whole, so its rejection is still deduplicated.
func headerMessageID(raw []byte) string {
	for len(raw) > 0 {
		i := indexLineEnd(raw)
		line := raw[:i]
		raw = raw[i:]
		if len(raw) > 0 && raw[0] == '\r' {
			raw = raw[1:]
		}
		if len(raw) > 0 && raw[0] == '\n' {
			raw = raw[1:]
		}
		if len(line) == 0 {
			return ""
		}
		if k := strings.IndexByte(string(line), ':'); k > 0 && strings.EqualFold(strings.TrimSpace(string(line[:k])), "Message-Id") {
			return providerMessageID(string(line[k+1:]))
		}
	}
	return ""
}

func indexLineEnd(b []byte) int {
	for i, c := range b {
		if c == '\r' || c == '\n' {
			return i
		}
	}
	return len(b)
}

// budget bounds the mails in flight: a number of worker slots and the bytes their raw
// mails hold. Only the fetching goroutine acquires; workers release.
type budget struct {
	mu       sync.Mutex
	cond     *sync.Cond
	slots    int
	inFlight int
	bytes    int64
	maxBytes int64
}

func newBudget(slots int, maxBytes int64) *budget {
	b := &budget{slots: max(slots, 1), maxBytes: maxBytes}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// acquireSlot waits for a free worker slot.
func (b *budget) acquireSlot() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.inFlight >= b.slots {
		b.cond.Wait()
	}
	b.inFlight++
}

// grow waits until n more bytes fit (a mail larger than the whole budget waits until it
// is alone in memory).
func (b *budget) grow(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.bytes > 0 && b.bytes+n > b.maxBytes {
		b.cond.Wait()
	}
	b.bytes += n
}

// release frees a slot and the n bytes it held.
func (b *budget) release(n int64) {
	b.mu.Lock()
	b.inFlight--
	b.bytes -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}
