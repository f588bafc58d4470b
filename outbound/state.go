package outbound

// State is where one outbound message stands. The public states (CONTRACT §7) appear on
// delivery entries; Sending and Retrying are the Worker's own, never reported.
type State string

// Public states.
const (
	StateAccepted  State = "accepted"  // the provider took the message; provider_message_id is known
	StateSent      State = "sent"      // the provider handed it on (carrier, WhatsApp servers, SMTP relay)
	StateDelivered State = "delivered" // it reached the citizen's device or mailbox
	StateRead      State = "read"      // the citizen opened it (WhatsApp only, when read receipts are on)
	StateFailed    State = "failed"    // it will not be delivered; error says why
	StateExpired   State = "expired"   // it waited too long at the provider and was dropped
	StateUnknown   State = "unknown"   // a crash or timeout left it open whether the provider took it; never resent
)

// Internal states.
const (
	StateNone     State = ""         // nothing recorded yet
	StateSending  State = "sending"  // claimed: a provider call may be under way
	StateRetrying State = "retrying" // the last try was provably not taken; the claim may be taken again
)

// transitions lists, for each state, the states it may move to. A state never moves
// backwards: a late "sent" callback after "delivered" is refused, and so is anything
// after failed or expired. unknown may still be resolved by the provider's own report
// (a status callback naming the outbound id), which is knowledge, not a step back.
var transitions = map[State][]State{
	StateNone:      {StateSending, StateFailed},
	StateRetrying:  {StateSending, StateFailed},
	StateSending:   {StateAccepted, StateRetrying, StateFailed, StateUnknown, StateSent, StateDelivered, StateRead, StateExpired},
	StateAccepted:  {StateSent, StateDelivered, StateRead, StateFailed, StateExpired},
	StateSent:      {StateDelivered, StateRead, StateFailed, StateExpired},
	StateDelivered: {StateRead},
	StateRead:      {},
	StateFailed:    {},
	StateExpired:   {},
	StateUnknown:   {StateAccepted, StateSent, StateDelivered, StateRead, StateFailed, StateExpired},
}

// CanMove reports whether from → to is allowed.
func CanMove(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// predecessors is the inverse of transitions, computed once.
var predecessors = func() map[State][]State {
	p := map[State][]State{}
	for _, from := range []State{StateNone, StateRetrying, StateSending, StateAccepted, StateSent, StateDelivered, StateRead, StateFailed, StateExpired, StateUnknown} {
		for _, to := range transitions[from] {
			p[to] = append(p[to], from)
		}
	}
	return p
}()

// From returns every state that may move to to: what a compare-and-set to it expects.
func From(to State) []State { return predecessors[to] }

// Public reports whether s is reported on the delivery stream.
func (s State) Public() bool {
	switch s {
	case StateAccepted, StateSent, StateDelivered, StateRead, StateFailed, StateExpired, StateUnknown:
		return true
	}
	return false
}

// Settled reports whether the Worker has nothing more to do for an id in state s: the
// provider has it (or refused it for good), or it is unknown.
func (s State) Settled() bool { return s.Public() }
