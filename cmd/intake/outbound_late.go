package main

import (
	"context"
	"sync/atomic"

	"github.com/lapor/intake/outbound"
)

// lateSender is a sender whose provider is a running channel (SMPP answers leave on its
// binds): the worker is wired before the channels are built, so the channel is attached
// once serve's loop built it. Until then, and if it never is, a send is refused as not
// sent (class retry).
type lateSender struct {
	channel, provider string
	cur               atomic.Pointer[outbound.Sender]
}

var _ outbound.Sender = (*lateSender)(nil)

func newLateSender(channel, provider string) *lateSender {
	return &lateSender{channel: channel, provider: provider}
}

// attach makes s the sender answering; s must be for the same channel and provider.
func (l *lateSender) attach(s outbound.Sender) {
	if l == nil {
		return
	}
	l.cur.Store(&s)
}

func (l *lateSender) Channel() string  { return l.channel }
func (l *lateSender) Provider() string { return l.provider }

func (l *lateSender) Send(ctx context.Context, m outbound.Outgoing) (outbound.Sent, error) {
	s := l.cur.Load()
	if s == nil {
		return outbound.Sent{}, outbound.Errorf(outbound.ClassRetry, "not_running",
			"the %s channel is not running yet; nothing was sent", l.provider)
	}
	return (*s).Send(ctx, m)
}
