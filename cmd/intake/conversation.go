package main

import (
	"log/slog"

	"github.com/lapor/intake/config"
	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/queue"
)

// conversationLayer wires CONTRACT §8: the citizen_id key, and the rate limit, block list
// and follow-ups kept in Redis. Without INTAKE_CITIZEN_KEY in production it warns and
// leaves them off rather than refusing to start: a gateway upgraded in place keeps
// running, and citizen_id appears once the operator sets a key (a key made up by the
// gateway would change the pseudonyms on the day a real one is set).
// The store is returned too (nil when off): channels note what they sent in it.
func conversationLayer(cfg *config.Config, qcfg queue.Config, log *slog.Logger) (*conversation.Layer, *queue.Conversations, error) {
	key := cfg.Conversation.CitizenKey.Reveal()
	if key == "" {
		log.Warn("INTAKE_CITIZEN_KEY is not set: records carry no citizen_id, and the per-citizen rate limit, " +
			"block list and follow-up linking are off; set it to a random secret (openssl rand -hex 32), the same on every replica")
		return &conversation.Layer{}, nil, nil
	}
	id, err := conversation.NewIdentity(key)
	if err != nil {
		return nil, nil, err
	}
	store, err := queue.OpenConversations(qcfg)
	if err != nil {
		return nil, nil, err
	}
	return &conversation.Layer{Identity: id, Store: store, Limit: cfg.Conversation.Limit(), Log: log}, store, nil
}

// sentLog is s as a conversation.SentLog: a nil interface, not a nil pointer in one, when off.
func sentLog(s *queue.Conversations) conversation.SentLog {
	if s == nil {
		return nil
	}
	return s
}
