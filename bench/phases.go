package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

// phase runs one timed phase of the scenario.
func (w *worker) phase(ctx context.Context, cmd Command) {
	w.ph.Store(newPhaseHists())
	w.cnt.reset(cLoggedIn, cJoined, cFailed, cSent, cReceived, cSendOK, cSendErr, cEvents, cSettled, cLateFrame, cListMax)
	w.errs.reset()
	w.marks.reset()
	w.phaseStart.Store(cmd.At)
	ctx, cancel := context.WithTimeout(ctx, w.spec.Timeout+cmd.Duration)
	defer cancel()
	switch w.spec.Scenario {
	case Login:
		w.storm(ctx, cmd, func(c *Conn) *protocol.Request { return w.loginReq(c) },
			func() int64 { return w.cnt.get(cLoggedIn) + w.cnt.get(cFailed) })
	case Join:
		ch := channelName(w.job.Prefix)
		w.storm(ctx, cmd, func(*Conn) *protocol.Request {
			return &protocol.Request{Op: protocol.OpChannelJoin, ChannelID: ch}
		}, func() int64 { return w.cnt.get(cJoined) + w.cnt.get(cFailed) })
		// Then the notices: until every view is complete, or none has
		// changed for a second (a server that names only the latest
		// members in onChannelUserList leaves late joiners' views short
		// of the earliest members for good).
		w.waitQuiet(ctx, func() int64 { return w.cnt.get(cEvents) }, nil, time.Second, w.spec.Timeout)
	case P2P, Fanout:
		w.rate(ctx, cmd)
	}
}

func (w *worker) live() []*Conn {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]*Conn, 0, len(w.conns))
	for _, c := range w.conns {
		select {
		case <-c.done:
		default:
			out = append(out, c)
		}
	}
	return out
}

// storm sends one request on every connection at cmd.At, from a few
// goroutines, and waits until finished counts every connection.
func (w *worker) storm(ctx context.Context, cmd Command, req func(*Conn) *protocol.Request, finished func() int64) {
	conns := w.live()
	// Build the frames first, so that the storm is only writes.
	reqs := make([]*protocol.Request, len(conns))
	for i, c := range conns {
		reqs[i] = req(c)
	}
	sleepUntil(ctx, time.Unix(0, cmd.At))
	const writers = 8
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < len(conns); i += writers {
				c := conns[i]
				c.sentAt.Store(time.Now().UnixNano())
				if err := c.Send(reqs[i]); err != nil {
					w.failed("write", err)
				}
			}
		}(g)
	}
	wg.Wait()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for finished() < int64(len(conns)) {
		select {
		case <-ctx.Done():
			w.errs.add(fmt.Sprintf("phase: %d of %d unfinished at the timeout", int64(len(conns))-finished(), len(conns)))
			return
		case <-t.C:
		}
	}
}

// rate sends messages at the worker's share of cmd.Rate for cmd.Duration,
// round-robin over its senders, then waits for the answers and deliveries
// to stop coming.
func (w *worker) rate(ctx context.Context, cmd Command) {
	conns := w.live()
	n := w.spec.N
	var senders []*Conn
	var share float64
	if w.spec.Scenario == P2P {
		senders = conns
		share = float64(w.job.Hi-w.job.Lo) / float64(n)
	} else {
		for _, c := range conns {
			if w.spec.isPublisher(c.Index) {
				senders = append(senders, c)
			}
		}
		plo, phi := w.spec.publisherRange()
		share = float64(max(0, min(w.job.Hi, phi)-max(w.job.Lo, plo))) / float64(phi-plo)
	}
	start := time.Unix(0, cmd.At)
	sleepUntil(ctx, start)
	if len(senders) > 0 && share > 0 {
		w.pace(ctx, start, cmd.Duration, cmd.Rate*share, senders)
	}
	// Every message sent ends in success or error (peer messages within
	// the edge's 10 s message timeout); deliveries are over when nothing
	// has arrived for a second.
	received := func() int64 { return w.cnt.get(cReceived) + w.cnt.get(cLateFrame) + w.cnt.get(cEvents) }
	pending := func() bool { return w.cnt.get(cSent) > w.cnt.get(cSendOK)+w.cnt.get(cSendErr) }
	w.waitQuiet(ctx, received, pending, time.Second, 15*time.Second)
}

// pace is an open-loop sender: message k is due at start + k/rate, whatever
// happened to the ones before it. How late each went out is recorded
// (send_lag), so that a load process that fell behind shows.
func (w *worker) pace(ctx context.Context, start time.Time, d time.Duration, rate float64, senders []*Conn) {
	end := start.Add(d)
	ch := channelName(w.job.Prefix)
	lag := w.hist(hLag)
	var k int64
	for {
		now := time.Now()
		if !now.Before(end) || ctx.Err() != nil {
			return
		}
		// Message k is due at start + k/rate: at elapsed e, messages
		// 0…floor(e·rate) are.
		due := int64(rate*now.Sub(start).Seconds()) + 1
		for ; k < due; k++ {
			lag.Record(now.Sub(start.Add(time.Duration(float64(k) / rate * float64(time.Second)))))
			c := senders[k%int64(len(senders))]
			r := &protocol.Request{Msg: stampMsg(now, w.spec.MsgSize), MsgID: msgID(now, k)}
			if w.spec.Scenario == P2P {
				peer := rand.IntN(w.spec.N - 1)
				if peer >= c.Index {
					peer++
				}
				r.Op, r.Account = protocol.OpMessageInstantSend, w.account(peer)
			} else {
				r.Op, r.ChannelID = protocol.OpMessageChannelSend, ch
				if w.spec.Outside {
					r.Op = protocol.OpMessageChannelSendForce
				}
			}
			if err := c.Send(r); err != nil {
				w.cnt.add(cSendErr, 1)
				w.failed("write", err)
				continue
			}
			w.cnt.add(cSent, 1)
		}
		time.Sleep(time.Millisecond)
	}
}

// msgID carries the send time, so that onMessageSendSuccess can be timed
// without a table of pending messages.
func msgID(t time.Time, k int64) string {
	return "b" + strconv.FormatInt(t.UnixNano(), 36) + "-" + strconv.FormatInt(k, 36)
}

func idStamp(id string) int64 {
	s, ok := strings.CutPrefix(id, "b")
	if !ok {
		return 0
	}
	s, _, _ = strings.Cut(s, "-")
	v, err := strconv.ParseInt(s, 36, 64)
	if err != nil {
		return 0
	}
	return v
}

// waitQuiet waits until busy (if given) is false and value has not changed
// for quiet, at most limit.
func (w *worker) waitQuiet(ctx context.Context, value func() int64, busy func() bool, quiet, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	last, since := value(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if v := value(); v != last || (busy != nil && busy()) {
				last, since = v, now
			} else if now.Sub(since) >= quiet {
				return
			}
		}
	}
}

func sleepUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}
