package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

// phase runs one timed phase of the scenario.
func (w *worker) phase(ctx context.Context, cmd Command) {
	w.ph.Store(newPhaseHists())
	w.cnt.reset(kLoggedIn, kJoined, kFailed, kSent, kReceived, kSendOK, kSendErr, kEvents, kSettled, kLateFrame, kListMax)
	w.errs.reset()
	w.cnt.resetTimes()
	w.phaseStart.Store(cmd.At)
	ctx, cancel := context.WithTimeout(ctx, w.spec.Timeout+cmd.Duration)
	defer cancel()
	switch w.spec.Scenario {
	case Login:
		w.storm(ctx, cmd, func(c *Conn) *protocol.Request { return w.loginReq(c) },
			func() int64 { return w.cnt.get(kLoggedIn) + w.cnt.get(kFailed) })
	case Join:
		ch := channelName(w.job.Prefix)
		w.storm(ctx, cmd, func(*Conn) *protocol.Request {
			return &protocol.Request{Op: protocol.OpChannelJoin, ChannelID: ch}
		}, func() int64 { return w.cnt.get(kJoined) + w.cnt.get(kFailed) })
		// Then the notices: until every view is complete, or none has
		// changed for a second (a server that names only the latest
		// members in onChannelUserList leaves late joiners' views short
		// of the earliest members for good).
		w.waitQuiet(ctx, func() int64 { return w.cnt.get(kEvents) }, nil, time.Second, w.spec.Timeout)
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
	// A process with no senders receives for the whole sending time too:
	// its wait for the end starts when the others' does.
	sleepUntil(ctx, start.Add(cmd.Duration))
	// Every message sent ends in success or error (peer messages within
	// the edge's 10 s message timeout); deliveries are over when nothing
	// has arrived for a second.
	received := func() int64 { return w.cnt.get(kReceived) + w.cnt.get(kLateFrame) + w.cnt.get(kEvents) }
	pending := func() bool { return w.cnt.get(kSent) > w.cnt.get(kSendOK)+w.cnt.get(kSendErr) }
	w.waitQuiet(ctx, received, pending, time.Second, w.spec.Drain)
}

// pace is an open-loop sender: message k is due at start + k/rate, whatever
// happened to the ones before it. How late each went out is recorded
// (send_lag), so that a load process that fell behind shows. Its frames are
// written into one buffer that every send reuses.
func (w *worker) pace(ctx context.Context, start time.Time, d time.Duration, rate float64, senders []*Conn) {
	end := start.Add(d)
	ch := channelName(w.job.Prefix)
	lag := w.hist(0, lLag)
	var k int64
	var frame []byte
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
			if w.spec.Scenario == P2P {
				peer := rand.IntN(w.spec.N - 1)
				if peer >= c.Index {
					peer++
				}
				frame = w.sendFrame(frame[:0], protocol.OpMessageInstantSend, peer, "", now, k)
			} else {
				op := protocol.OpMessageChannelSend
				if w.spec.Outside {
					op = protocol.OpMessageChannelSendForce
				}
				frame = w.sendFrame(frame[:0], op, -1, ch, now, k)
			}
			if err := c.write(frame); err != nil {
				w.cnt.addOn(c.Index, kSendErr, 1)
				w.failed("write", err)
				continue
			}
			w.cnt.addOn(c.Index, kSent, 1)
		}
		// Sleep until the next message is due (at least a millisecond, so
		// that a fast schedule goes out in batches): a slow one does not
		// wake the process a thousand times a second for nothing.
		next := start.Add(time.Duration(float64(k) / rate * float64(time.Second)))
		time.Sleep(max(time.Millisecond, min(time.Until(next), time.Until(end))))
	}
}

// sendFrame appends the request that sends message k, stamped at t, to the
// account of user peer (peer ≥ 0) or to channel ch: what json.Marshal makes
// of the protocol.Request, without its allocations.
func (w *worker) sendFrame(b []byte, op string, peer int, ch string, t time.Time, k int64) []byte {
	b = append(b, `{"op":`...)
	b = appendJSONString(b, op)
	if peer >= 0 {
		b = append(b, `,"account":"`...)
		b = appendJSONText(b, w.job.Prefix)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(peer), 10)
		b = append(b, '"')
	} else {
		b = append(b, `,"channelID":`...)
		b = appendJSONString(b, ch)
	}
	b = append(b, `,"msg":"~T`...)
	b = strconv.AppendInt(b, t.UnixNano(), 10)
	b = append(b, '~')
	// The text is the stamp padded with x to MsgSize bytes.
	for n := 3 + digits(t.UnixNano()); n < w.spec.MsgSize; n++ {
		b = append(b, 'x')
	}
	b = append(b, `","msgID":"b`...)
	b = strconv.AppendInt(b, t.UnixNano(), 36)
	b = append(b, '-')
	b = strconv.AppendInt(b, k, 36)
	return append(b, `"}`...)
}

func digits(v int64) int {
	n := 1
	for ; v >= 10; v /= 10 {
		n++
	}
	return n
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONText(b, s)
	return append(b, '"')
}

// appendJSONText appends the inside of a JSON string holding s.
func appendJSONText(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"' || ch == '\\':
			b = append(b, '\\', ch)
		case ch < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[ch>>4], hex[ch&0xf])
		default:
			b = append(b, ch)
		}
	}
	return b
}

// idStamp is the send time in a message ID ("b<Unix ns in base 36>-<k in
// base 36>", see sendFrame), so that onMessageSendSuccess is timed without
// a table of pending messages; 0 if none.
func idStamp[T string | []byte](id T) int64 {
	if len(id) < 2 || id[0] != 'b' {
		return 0
	}
	var v int64
	for i := 1; i < len(id); i++ {
		ch := id[i]
		var d int64
		switch {
		case ch == '-':
			return v
		case ch >= '0' && ch <= '9':
			d = int64(ch - '0')
		case ch >= 'a' && ch <= 'z':
			d = int64(ch-'a') + 10
		default:
			return 0
		}
		if v > (math.MaxInt64-d)/36 {
			return 0
		}
		v = v*36 + d
	}
	return 0
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
