package edge

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	sbotel "github.com/switchboard-io/switchboard/otel"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// callWorker publishes c to the workers' subject of its operation, carrying
// the trace context, and decodes their reply.
func callWorker(ctx context.Context, nc *nats.Conn, c *protocol.Call, timeout time.Duration) (*protocol.Reply, error) {
	ctx, span := sbotel.StartClientSpan(ctx, "edge "+c.Req.Op)
	defer span.End()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	data, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	m := &nats.Msg{Subject: subjects.Req(c.App, c.Req.Op), Data: data}
	sbotel.Inject(ctx, m)
	resp, err := nc.RequestMsgWithContext(ctx, m)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil, protocol.Errorf(protocol.KindUnavailable, "no worker is available")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return nil, protocol.ErrTimeout
	case err != nil:
		return nil, protocol.Errorf(protocol.KindUnavailable, "the service is unreachable")
	}
	var reply protocol.Reply
	if err := json.Unmarshal(resp.Data, &reply); err != nil {
		return nil, protocol.ErrInternal
	}
	if reply.Err != nil {
		return &reply, reply.Err
	}
	return &reply, nil
}

// serial runs functions one after another, in the order given, on a
// goroutine that exists only while there is work. A session's requests to the
// workers go through one, so that a join and the leave after it are handled
// in that order whichever workers take them.
//
// A function that panics is recovered and counted (Server.panics): one bad
// request must not take down every user of the edge.
type serial struct {
	mu      sync.Mutex
	q       []func()
	running bool
	// space is closed, and cleared, whenever a function finishes, so that
	// a reader waiting for the queue to shrink (wait) looks again.
	space chan struct{}
	// onPanic, if set, is told of a recovered panic.
	onPanic func(any)
}

func (s *serial) do(f func()) {
	s.mu.Lock()
	s.q = append(s.q, f)
	if s.running {
		s.mu.Unlock()
		return
	}
	s.running = true
	s.mu.Unlock()
	go s.run()
}

// wait returns when fewer than limit functions are queued or running, or
// when done is closed.
func (s *serial) wait(limit int, done <-chan struct{}) {
	for {
		s.mu.Lock()
		n := len(s.q)
		if s.running {
			n++
		}
		if n < limit {
			s.mu.Unlock()
			return
		}
		if s.space == nil {
			s.space = make(chan struct{})
		}
		space := s.space
		s.mu.Unlock()
		select {
		case <-space:
		case <-done:
			return
		}
	}
}

func (s *serial) run() {
	for {
		s.mu.Lock()
		if len(s.q) == 0 {
			s.running = false
			s.q = nil
			s.signalLocked()
			s.mu.Unlock()
			return
		}
		f := s.q[0]
		s.q[0] = nil
		s.q = s.q[1:]
		s.mu.Unlock()
		s.call(f)
		s.mu.Lock()
		s.signalLocked()
		s.mu.Unlock()
	}
}

func (s *serial) signalLocked() {
	if s.space != nil {
		close(s.space)
		s.space = nil
	}
}

func (s *serial) call(f func()) {
	defer func() {
		if v := recover(); v != nil {
			if s.onPanic != nil {
				s.onPanic(v)
			} else {
				panic(v)
			}
		}
	}()
	f()
}
