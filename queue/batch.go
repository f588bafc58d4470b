package queue

// batchLoop runs requests in batches until stop closes: it waits for one request, takes
// whatever else is already waiting (up to max), and hands them to run together, so one
// pipeline round trip serves every caller of that moment. run may keep the slice only
// until it returns.
func batchLoop[T any](in <-chan T, stop <-chan struct{}, max int, run func([]T)) {
	batch := make([]T, 0, max)
	for {
		select {
		case r := <-in:
			batch = append(batch[:0], r)
		case <-stop:
			return
		}
	more:
		for len(batch) < max {
			select {
			case r := <-in:
				batch = append(batch, r)
			default:
				break more
			}
		}
		run(batch)
	}
}
