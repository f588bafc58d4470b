package outbound

import (
	"errors"
	"fmt"
)

// Class is what kind of failure a send met (CONTRACT §7 error.class).
type Class string

// Error classes.
const (
	ClassRetry        Class = "retry"         // the provider did not take it; try again later
	ClassThrottle     Class = "throttle"      // too fast for this sending number: pause it, then try again
	ClassPermanent    Class = "permanent"     // will never work as it is (bad address, bad entry, unknown complaint)
	ClassOptedOut     Class = "opted_out"     // the citizen asked for no more messages (STOP)
	ClassWindowClosed Class = "window_closed" // WhatsApp free text outside 24 hours and no template to use
	ClassConfig       Class = "config"        // the gateway's own settings are wrong (token, sender, template)
)

// classRule is how the Worker treats a class.
type classRule struct {
	retry       bool // try again with backoff (up to Worker.MaxTries)
	pauseSender bool // pause the sending number before the next try (any worker's)
	optOut      bool // remember the recipient as opted out
}

// classes is the treatment of each class, as data.
var classes = map[Class]classRule{
	ClassRetry:        {retry: true},
	ClassThrottle:     {retry: true, pauseSender: true},
	ClassPermanent:    {},
	ClassOptedOut:     {optOut: true},
	ClassWindowClosed: {},
	ClassConfig:       {},
}

// Classes lists every class, for documentation and tests.
func Classes() []Class {
	return []Class{ClassRetry, ClassThrottle, ClassPermanent, ClassOptedOut, ClassWindowClosed, ClassConfig}
}

// Error is a failed send as a Sender reports it. Code is the provider's own code (Twilio
// 21610, Meta 131047, SMTP 550) or one of the gateway's; Detail says in plain words what
// happened and what to do. Ambiguous: the request may have reached the provider (a
// timeout, a connection lost after the request was written, a 5xx), so the message may
// have been sent: it ends "unknown" and is never sent again, whatever Class says.
type Error struct {
	Class     Class
	Code      string
	Detail    string
	Ambiguous bool
}

func (e *Error) Error() string {
	amb := ""
	if e.Ambiguous {
		amb = " (outcome unknown)"
	}
	return fmt.Sprintf("outbound %s error %s%s: %s", e.Class, e.Code, amb, e.Detail)
}

// Errorf builds an *Error.
func Errorf(class Class, code, format string, args ...any) *Error {
	return &Error{Class: class, Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Ambiguousf builds an *Error whose outcome is unknown.
func Ambiguousf(code, format string, args ...any) *Error {
	return &Error{Class: ClassRetry, Code: code, Detail: fmt.Sprintf(format, args...), Ambiguous: true}
}

// asError turns anything a Sender returned into an *Error. An error of another type
// says nothing about whether the request left: ambiguous, to be safe.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if _, known := classes[e.Class]; !known {
			return &Error{Class: ClassPermanent, Code: e.Code, Detail: e.Detail, Ambiguous: e.Ambiguous}
		}
		return e
	}
	return &Error{Class: ClassRetry, Code: "sender_error", Detail: err.Error(), Ambiguous: true}
}
