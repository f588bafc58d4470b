package normalizer

// CleanSubject removes any run of reply and forward prefixes ("Re:", "Fwd:", "Balas:", …).
func CleanSubject(s string) string {
	return CleanText(s) // TODO(normalizer): prefixes
}
