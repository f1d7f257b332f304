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
type serial struct {
	mu      sync.Mutex
	q       []func()
	running bool
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

func (s *serial) run() {
	for {
		s.mu.Lock()
		if len(s.q) == 0 {
			s.running = false
			s.q = nil
			s.mu.Unlock()
			return
		}
		f := s.q[0]
		s.q[0] = nil
		s.q = s.q[1:]
		s.mu.Unlock()
		f()
	}
}
