// Package client is the core system's side of the intake gateway: it reads the complaint
// stream (intake:complaints) and the delivery stream (intake:delivery) as a member of a
// Redis Streams consumer group, and it puts answers for citizens on the outbound stream
// (intake:outbound). It depends on go-redis v9 only, nothing else of this module, so a
// core can import it alone.
//
// # Consuming
//
// NewConsumer and Consumer.Run give each entry of a stream to a Handler:
//
//   - At least once. An entry is acknowledged (XACK) only after its handler returned nil.
//     A crash, a kill -9 or a lost acknowledgement delivers it again, so handlers must be
//     idempotent: key the side effect by the complaint's id (a unique key in the core's
//     database, or SET NX), the answer's id, or the delivery's outbound id and state.
//   - Nothing stranded. After a restart a consumer first re-reads its own pending entries
//     (XREADGROUP … 0), which is why Config.Consumer should be a stable name. Entries of a
//     consumer that died are claimed after Config.ClaimIdle (XAUTOCLAIM). Entries trimmed
//     or deleted while pending are acknowledged away.
//   - Retries and no poison loops. A failed entry (error, panic) is delivered again once
//     it has been idle for Config.ClaimIdle, which is the retry pause. Redis counts
//     deliveries (Entry.Deliveries); after
//     Config.MaxDeliveries the entry goes to the dead-letter stream (Stream + ":dead") with
//     its fields plus reason, original_id and deliveries, and is acknowledged. A handler
//     error marked with Permanent (every DecodeComplaint and DecodeDelivery error is)
//     dead-letters at once. A handler panic is a failed delivery.
//   - Long handlers keep their entries: a heartbeat resets their idle time every
//     Config.Heartbeat (XCLAIM … JUSTID, which adds no delivery) so no other consumer
//     claims them while they work.
//   - Prompt, clean shutdown. Reads block at most Config.Block (go-redis does not interrupt
//     a blocking read when its context ends), then Run waits for running handlers. An entry
//     whose handler was interrupted by the shutdown stays pending for the next start; it
//     is not counted as a failure.
//   - Redis trouble is weathered: unreachable Redis is retried with jittered backoff; a
//     lost group or stream (NOGROUP, e.g. Redis restarted without AOF) is created again
//     from id 0 and logged at error level with alert=group_recreated; a failed XACK is
//     retried.
//
// # Answering
//
// SendAnswer checks an Answer and adds it to the outbound stream as one field, "message",
// holding its JSON. The gateway sends it on the channel the complaint came in on and
// reports on the delivery stream; DecodeDelivery reads those reports.
//
// Logs carry entry ids, counts and errors, never entry contents. Handler errors are
// logged and stored as the dead-letter reason, so they should not quote personal data.
package client
