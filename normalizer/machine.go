package normalizer

import "github.com/lapor/intake/record"

// ClassifyMachineMail returns a rejection reason (auto_reply, bounce, report) and a short
// detail when m was written by a machine, or "" for mail a person wrote.
func ClassifyMachineMail(m *record.Message) (reason, detail string) {
	return "", "" // TODO(normalizer): machine mail
}
