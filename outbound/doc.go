// Package outbound is the return path (CONTRACT §7): the core's answers to citizens
// (entries on intake:outbound) are sent on the channel and from the address the complaint
// came in on, and what became of each send goes back on intake:delivery.
//
// The package holds the contract and the rules, not the plumbing: the entry and delivery
// shapes, the state machine and the error classes as data, the Sender contract each
// channel implements, the Store and Contacts it needs (implemented by queue), and the
// Worker that sends one entry at most once. It imports no Redis client, no HTTP framework
// and no channel.
//
// At most once: before a provider call the Worker claims the outbound id ("sending", a
// compare-and-set in the Store). A redelivered entry that finds its id still "sending"
// after the claim's lease cannot know whether the provider took the message, so it ends
// "unknown" and is never sent again. Only failures the provider provably did not act on
// (class retry or throttle, not ambiguous) release the claim for another try.
package outbound
