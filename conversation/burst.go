package conversation

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/lapor/intake/record"
)

// Bursts (CONTRACT §8): messages of one citizen on one channel that arrive within the
// channel's quiet window of each other become one complaint. Each part is staged in the
// store (Redis) and acknowledged at once; the first part's answer carries the reference
// (allocated when the burst opens), later parts' answers none. A runner publishes the
// burst once it has been quiet for the window, or 10 minutes after its first part.

// BurstMax is the longest a burst stays open after its first part.
const BurstMax = 10 * time.Minute

// BurstMaxParts is the most parts one burst holds: a full burst is published at once and
// the next part opens another, so a flood (with INTAKE_RATE_LIMIT off) cannot grow one
// record without bound.
const BurstMaxParts = 100

// DefaultBurstWindow is INTAKE_BURST_WINDOW's default (WhatsApp); SMS bursts are off by
// default.
const DefaultBurstWindow = 60 * time.Second

// BurstConfig holds the burst settings.
type BurstConfig struct {
	// Window is WhatsApp's quiet window; 0 turns WhatsApp bursts off.
	Window time.Duration `env:"INTAKE_BURST_WINDOW" yaml:"burst_window"`
	// SMSWindow is SMS's quiet window (Twilio, SMPP, Android); 0 (the default) is off.
	SMSWindow time.Duration `env:"INTAKE_SMS_BURST_WINDOW" yaml:"sms_burst_window"`
}

// WindowFor is channel's quiet window, 0 when bursts are off there.
func (c BurstConfig) WindowFor(channel string) time.Duration {
	switch channel {
	case record.ChannelWhatsApp:
		return c.Window
	case record.ChannelSMS:
		return c.SMSWindow
	}
	return 0
}

// On reports whether any channel has bursts.
func (c BurstConfig) On() bool { return c.Window > 0 || c.SMSWindow > 0 }

// Validate lists every problem.
func (c BurstConfig) Validate() []error {
	var errs []error
	if c.Window < 0 || c.Window > BurstMax {
		errs = append(errs, configError("INTAKE_BURST_WINDOW must be 0 (off) or a duration up to 10m, such as 60s"))
	}
	if c.SMSWindow < 0 || c.SMSWindow > BurstMax {
		errs = append(errs, configError("INTAKE_SMS_BURST_WINDOW must be 0 (off) or a duration up to 10m, such as 60s"))
	}
	return errs
}

// BurstAction is what became of one part.
type BurstAction uint8

const (
	BurstStarted     BurstAction = iota + 1 // the part opened a burst: its answer carries the receipt
	BurstJoined                             // the part joined the open burst: no receipt
	BurstFollowUp                           // the burst closed a moment ago: the part is a follow-up of it
	BurstDuplicate                          // a provider's retry of a part already staged
	BurstNotPart                            // a follow-up of another complaint: the ordinary path
	BurstRateLimited                        // the citizen is over INTAKE_RATE_LIMIT: nothing staged
)

// BurstFacts are what the store knows of the citizen's open burst, in the store's clock
// (milliseconds), so replicas with skewed clocks decide alike.
type BurstFacts struct {
	Open                bool
	First, Last, Due    int64
	GreetingsOnly       bool // every part so far is a greeting alone
	Now, Window, MaxAge int64
}

// DecideBurst is the rule the store's script applies atomically (queue/burst.go mirrors
// it in Lua; the end-to-end tests in burst_e2e_test.go hold them together): a part joins the open
// burst while it is not yet due and younger than the cap; a part arriving within the
// window of the last part of a burst that is due (or full) is a follow-up of it; else it
// opens a burst. due is when the burst, with this part, is published: the window after
// its last part (the cap while it holds greetings only, so "Halo" waits for the
// complaint), never later than the cap. (A follow-up, a reply to the burst's receipt,
// joins only its own burst while open; the script answers any other "not a part".)
func DecideBurst(f BurstFacts, greeting bool) (a BurstAction, due int64) {
	if f.Open && f.Now <= f.Due && f.Now < f.First+f.MaxAge {
		return BurstJoined, BurstDue(f.First, f.Now, f.Window, f.MaxAge, f.GreetingsOnly && greeting)
	}
	if f.Open && f.Now-f.Last <= f.Window {
		return BurstFollowUp, 0
	}
	return BurstStarted, BurstDue(f.Now, f.Now, f.Window, f.MaxAge, greeting)
}

// BurstDue is when a burst whose first part came at first and latest at now is published:
// the window after now, or the cap while it holds greetings only (all in milliseconds).
func BurstDue(first, now, window, maxAge int64, greetingsOnly bool) int64 {
	due := now + window
	if greetingsOnly {
		due = first + maxAge
	}
	return min(due, first+maxAge)
}

// BurstPart is one message offered to a burst.
type BurstPart struct {
	// Key names the citizen's burst on one channel.
	Key string
	// Dedupe is the part's dedupe key ("<channel>:<provider id>").
	Dedupe   string
	Part     *record.Complaint
	Greeting bool
	// FollowUpOf is the record id of the complaint a follow-up (a reply to the burst's
	// receipt) continues: it joins that burst while it is open, else it is no part.
	FollowUpOf string
	Window     time.Duration
	MaxAge     time.Duration
}

// BurstAnswer is what the store decided for a part.
type BurstAnswer struct {
	Action BurstAction
	// ID and Reference are the burst's record's (for a follow-up: of the complaint it
	// continues); BurstID names the burst.
	ID, Reference, BurstID string
	// Held: this part's answer carries no receipt (a later part, or a retry of one).
	Held bool
	// Spooled: Redis was unreachable; the part waits in the local spool and joins (or
	// opens) its burst when Redis answers again.
	Spooled bool
}

// DueBurst is a burst the runner has claimed (with a lease) to publish.
type DueBurst struct {
	BurstID, ID, Reference string
	Parts                  []*record.Complaint
}

// BurstStore keeps bursts where every replica sees them (queue.Bursts, in Redis).
type BurstStore interface {
	// AddPart stages p atomically: dedupe, join or open, due time. While the store is
	// unreachable it keeps p in the local spool (BurstAnswer.Spooled) to stage it later;
	// it fails only when neither can take it.
	AddPart(ctx context.Context, p BurstPart) (BurstAnswer, error)
	// ClaimDue leases up to max due bursts (and bursts whose holder's lease ran out).
	ClaimDue(ctx context.Context, lease time.Duration, max int) ([]DueBurst, error)
	// Done forgets published bursts.
	Done(ctx context.Context, burstIDs ...string) error
	// Ping reports whether the store answers (the runner's check after an outage).
	Ping(ctx context.Context) error
}

// BurstKey names citizen's burst on channel.
func BurstKey(channel, citizenID string) string { return channel + ":" + citizenID }

// greetingWords are the words a message made of greetings alone consists of ("Halo",
// "Pak", "Selamat pagi", "mau lapor", "Assalamualaikum min").
var greetingWords = map[string]bool{
	"halo": true, "hallo": true, "helo": true, "hello": true, "hai": true, "hi": true, "hey": true, "p": true,
	"pak": true, "bu": true, "bapak": true, "ibu": true, "kak": true, "mas": true, "mbak": true, "min": true,
	"admin": true, "om": true, "gan": true, "sis": true, "bro": true,
	"selamat": true, "pagi": true, "siang": true, "sore": true, "malam": true,
	"assalamualaikum": true, "assalamu'alaikum": true, "asalamualaikum": true, "salam": true, "wr": true, "wb": true,
	"permisi": true, "maaf": true, "mau": true, "ingin": true, "saya": true, "lapor": true, "melapor": true,
	"laporan": true, "tanya": true, "bertanya": true, "ada": true, "yang": true, "mengadu": true, "aduan": true,
	"good": true, "morning": true, "afternoon": true, "evening": true, "want": true, "to": true, "report": true,
}

// IsGreeting reports whether c is a greeting alone: a short text of greeting words, no
// attachment, no location. Such a part never is a complaint of its own when more follows.
func IsGreeting(c *record.Complaint) bool {
	if len(c.Attachments) > 0 || c.Location != nil || len(c.Body) > 80 {
		return false
	}
	words := strings.FieldsFunc(strings.ToLower(c.Body), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	})
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		if !greetingWords[w] {
			return false
		}
	}
	return true
}
