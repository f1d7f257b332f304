package kv

import "time"

// SetDeleteMarkerTTL shortens how long a delete's marker stays, for a test
// that waits for it to expire; restore puts it back.
func SetDeleteMarkerTTL(d time.Duration) (restore func()) {
	old := deleteMarkerTTL
	deleteMarkerTTL = d
	return func() { deleteMarkerTTL = old }
}

// The header the KV API marks a deleted key with, and its value.
const (
	KVOperation = kvOperation
	KVDelete    = kvDelete
)
