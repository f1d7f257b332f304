package edge

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"
)

// Under load an edge writes many frames to a socket at a time. batchConn
// gathers the frames the writer has ready into one buffer and writes them
// with one syscall, instead of one per frame: a socket that is written to
// once per delivery costs the edge most of its CPU at fan-out rates.

// maxBatch bounds one gathered write.
const maxBatch = 64 << 10

var batchBufs = sync.Pool{New: func() any { b := make([]byte, 0, maxBatch); return &b }}

// batchConn is the client's socket as gorilla writes to it. Outside a batch,
// writes go through at once; inside one (begin … end), they gather. Writes
// from other goroutines (gorilla answering a ping from the reader) are
// serialised with it.
type batchConn struct {
	net.Conn
	mu       sync.Mutex
	batching bool
	buf      *[]byte // from batchBufs while batching
	// gorilla sets the write deadline before every frame it writes; the
	// socket's is changed only when a write reaches it with another one
	// (one system call per burst rather than one per frame).
	deadline, applied time.Time
}

// SetWriteDeadline sets the deadline of the writes that follow.
func (b *batchConn) SetWriteDeadline(t time.Time) error {
	b.mu.Lock()
	b.deadline = t
	b.mu.Unlock()
	return nil
}

// writeLocked writes p to the socket under the latest deadline.
func (b *batchConn) writeLocked(p []byte) (int, error) {
	if !b.deadline.Equal(b.applied) {
		if err := b.Conn.SetWriteDeadline(b.deadline); err != nil {
			return 0, err
		}
		b.applied = b.deadline
	}
	return b.Conn.Write(p)
}

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.batching {
		return b.writeLocked(p)
	}
	if len(*b.buf)+len(p) > maxBatch {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > maxBatch {
			return b.writeLocked(p)
		}
	}
	*b.buf = append(*b.buf, p...)
	return len(p), nil
}

// writeText writes data as one unmasked, final WebSocket text frame, its
// header and its payload under one lock: nothing another goroutine writes
// (gorilla's pong from the reader) comes between them. In a batch it costs
// no allocation and no system call of its own.
func (b *batchConn) writeText(data []byte) error {
	var h [maxHeader]byte
	hdr := textHeader(h[:0], len(data))
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.batching && len(hdr)+len(data) <= maxBatch {
		if len(*b.buf)+len(hdr)+len(data) > maxBatch {
			if err := b.flushLocked(); err != nil {
				return err
			}
		}
		*b.buf = append(append(*b.buf, hdr...), data...)
		return nil
	}
	if b.batching {
		if err := b.flushLocked(); err != nil {
			return err
		}
	}
	// A frame larger than a batch, rare: the header is copied so that h
	// stays on the stack of the common case.
	if _, err := b.writeLocked(append([]byte(nil), hdr...)); err != nil {
		return err
	}
	_, err := b.writeLocked(data)
	return err
}

// begin starts gathering writes.
func (b *batchConn) begin() {
	b.mu.Lock()
	if !b.batching {
		b.batching = true
		b.buf = batchBufs.Get().(*[]byte)
	}
	b.mu.Unlock()
}

// end writes what was gathered and stops gathering.
func (b *batchConn) end() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.batching {
		return nil
	}
	err := b.flushLocked()
	b.batching = false
	*b.buf = (*b.buf)[:0]
	batchBufs.Put(b.buf)
	b.buf = nil
	return err
}

func (b *batchConn) flushLocked() error {
	if len(*b.buf) == 0 {
		return nil
	}
	_, err := b.writeLocked(*b.buf)
	*b.buf = (*b.buf)[:0]
	return err
}

// batchWriter hands gorilla's upgrader a batchConn when it hijacks the
// connection, and keeps it for the edge.
type batchWriter struct {
	http.ResponseWriter
	conn *batchConn
}

func (w *batchWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := w.ResponseWriter.(http.Hijacker).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &batchConn{Conn: c}
	return w.conn, brw, nil
}
