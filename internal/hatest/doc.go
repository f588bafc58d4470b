// Package hatest holds the tests of several gateway processes sharing one Redis
// (CONTRACT §9): mailbox leases across processes, and failovers of a Redis Sentinel lab
// (internal/testenv.StartLab) under load. It has no code of its own.
package hatest
