package bench

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

// onEvent handles every decoded frame that no Call waited for.
func (w *worker) onEvent(c *Conn, ev *protocol.Event, at time.Time) {
	i := c.Index
	switch ev.Ev {
	case protocol.EvMessageInstantReceive:
		w.onMessage(c, stampOf(ev.Msg), at)
	case protocol.EvMessageSendSuccess:
		w.onSendOK(c, idStamp(ev.MessageID), at)
	case protocol.EvMessageSendError:
		w.cnt.addOn(i, kSendErr, 1)
		w.errs.add(fmt.Sprintf("onMessageSendError %d", ev.Ecode))
	case protocol.EvLoginSuccess:
		w.cnt.addOn(i, kLoggedIn, 1)
		if t := c.sentAt.Load(); t > 0 {
			w.hist(i, lLogin).Record(at.Sub(time.Unix(0, t)))
		}
		w.cnt.markOn(i, kLoggedIn, at)
	case protocol.EvLoginFailed:
		w.cnt.add(kFailed, 1)
		w.errs.add(fmt.Sprintf("onLoginFailed %d", ev.Ecode))
	case protocol.EvChannelJoined:
		w.cnt.addOn(i, kJoined, 1)
		w.hist(i, lJoined).Record(at.Sub(time.Unix(0, w.phaseStart.Load())))
		w.cnt.markOn(i, kJoined, at)
		w.checkSettled(c, at)
	case protocol.EvChannelJoinFailed:
		w.cnt.add(kFailed, 1)
		w.errs.add(fmt.Sprintf("onChannelJoinFailed %d", ev.Ecode))
	case protocol.EvChannelUserList:
		w.cnt.addOn(i, kEvents, 1)
		w.cnt.max(kListMax, int64(len(ev.Accounts)))
		for _, a := range ev.Accounts {
			c.seen.set(w.index(a))
		}
		w.cnt.markOn(i, kNotice, at)
		w.checkSettled(c, at)
	case protocol.EvChannelUserJoined:
		w.onJoined(c, []byte(ev.Account), at)
	case protocol.EvChannelUserLeaved:
		w.cnt.addOn(i, kEvents, 1)
		c.seen.clear(w.index(ev.Account))
		c.seenN.Store(int32(c.seen.n))
	case protocol.EvError:
		if ev.Name == protocol.OpLogin || ev.Name == protocol.OpChannelJoin {
			w.cnt.add(kFailed, 1) // a storm's request that failed
		}
		w.errs.add(fmt.Sprintf("onError %s %d", ev.Name, ev.Ecode))
	case protocol.EvLogout:
		w.errs.add(fmt.Sprintf("onLogout %d", ev.Ecode))
	default:
		w.cnt.addOn(i, kEvents, 1)
	}
}

// onJoined counts an onChannelUserJoined at c and notes the member it
// names. The join storm's members get a million of them: the connection
// hands them over undecoded (Handler.Joined).
func (w *worker) onJoined(c *Conn, account []byte, at time.Time) {
	w.cnt.addOn(c.Index, kEvents, 1)
	c.seen.set(accountIndex(w.job.Prefix, account))
	w.cnt.markOn(c.Index, kNotice, at)
	w.checkSettled(c, at)
}

// checkSettled notes when a member's view of the channel holds every member.
func (w *worker) checkSettled(c *Conn, at time.Time) {
	c.seenN.Store(int32(c.seen.n))
	if c.settled || c.seen.w == nil || c.seen.n < w.spec.N {
		return
	}
	c.settled = true
	w.cnt.addOn(c.Index, kSettled, 1)
	w.hist(c.Index, lSettled).Record(at.Sub(time.Unix(0, w.phaseStart.Load())))
	w.cnt.markOn(c.Index, kSettled, at)
}

// onMessage counts a peer or channel message that arrived at c, and times
// it from the send time it carries. It runs for every delivery, on the
// connection's reader: no lock, no lookup, no allocation.
func (w *worker) onMessage(c *Conn, stamp int64, at time.Time) {
	i := c.Index
	switch {
	case stamp == 0:
		w.cnt.addOn(i, kEvents, 1)
	case stamp < w.phaseStart.Load():
		w.cnt.addOn(i, kLateFrame, 1)
	default:
		w.cnt.addOn(i, kReceived, 1)
		d := at.Sub(time.Unix(0, stamp))
		w.hist(i, lLatency).Record(d)
		if w.slow != nil && d > w.slow.over {
			w.slow.add(stamp, at.UnixNano(), i)
		}
		w.cnt.markOn(i, kReceived, at)
	}
}

// onSendOK counts an onMessageSendSuccess and times it from the send time
// its message ID carries.
func (w *worker) onSendOK(c *Conn, stamp int64, at time.Time) {
	w.cnt.addOn(c.Index, kSendOK, 1)
	if stamp > 0 {
		w.hist(c.Index, lAck).Record(at.Sub(time.Unix(0, stamp)))
	}
}

// slowLog keeps the deliveries slower than over, for -slow-log: when each
// was sent and when it arrived, so that the bursts a tail is made of can be
// lined up with what else happened then (a collection in the server's
// GODEBUG=gctrace=1, a stall of the machine). Slow deliveries are a small
// share of all, so a lock is cheap enough.
type slowLog struct {
	over time.Duration
	mu   sync.Mutex
	recs []slowRec
}

type slowRec struct {
	sent, arrived int64 // Unix ns
	user          int
}

func (l *slowLog) add(sent, arrived int64, user int) {
	l.mu.Lock()
	l.recs = append(l.recs, slowRec{sent, arrived, user})
	l.mu.Unlock()
}

// write writes one line per slow delivery, in the order they arrived:
// send time and arrival time (Unix ns), latency (µs) and the receiving
// user's index.
func (l *slowLog) write(file string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	slices.SortFunc(l.recs, func(a, b slowRec) int { return cmp.Compare(a.arrived, b.arrived) })
	var b []byte
	b = append(b, "# sent_unix_ns arrived_unix_ns latency_us user\n"...)
	for _, r := range l.recs {
		b = fmt.Appendf(b, "%d %d %d %d\n", r.sent, r.arrived, (r.arrived-r.sent)/1000, r.user)
	}
	return os.WriteFile(file, b, 0o644)
}
