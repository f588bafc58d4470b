package normalizer

// Routing assigns complaints to agencies (CONTRACT §4 `agency`).
type Routing struct {
	// Default is the agency when no rule matches ("" for none).
	Default string `yaml:"default"`
	// Recipients maps a recipient number or mailbox address to an agency code.
	Recipients map[string]string `yaml:"recipients"`
	// Keywords maps a leading keyword or hashtag ("DISHUB", "#DISDUKCAPIL") to an agency code.
	Keywords map[string]string `yaml:"keywords"`
}

func (r *Routing) compile() error { return nil }

// Route returns the agency for a message sent to recipient with body, and the body with a
// leading routing keyword removed.
func (r *Routing) Route(recipient, body string) (agency, rest string) {
	return r.Default, body // TODO(normalizer): routing rules
}
