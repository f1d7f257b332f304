package bench

import (
	"fmt"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

// onEvent handles every decoded frame that no Call waited for.
func (w *worker) onEvent(c *Conn, ev *protocol.Event, at time.Time) {
	switch ev.Ev {
	case protocol.EvMessageInstantReceive:
		w.onMessage(stampOf(ev.Msg), at)
	case protocol.EvMessageSendSuccess:
		w.cnt.add(cSendOK, 1)
		if t := idStamp(ev.MessageID); t > 0 {
			w.hist(hAck).Record(at.Sub(time.Unix(0, t)))
		}
	case protocol.EvMessageSendError:
		w.cnt.add(cSendErr, 1)
		w.errs.add(fmt.Sprintf("onMessageSendError %d", ev.Ecode))
	case protocol.EvLoginSuccess:
		w.cnt.add(cLoggedIn, 1)
		if t := c.sentAt.Load(); t > 0 {
			w.hist(hLogin).Record(at.Sub(time.Unix(0, t)))
		}
		w.marks.mark(cLoggedIn, at)
	case protocol.EvLoginFailed:
		w.cnt.add(cFailed, 1)
		w.errs.add(fmt.Sprintf("onLoginFailed %d", ev.Ecode))
	case protocol.EvChannelJoined:
		w.cnt.add(cJoined, 1)
		w.hist(hJoined).Record(at.Sub(time.Unix(0, w.phaseStart.Load())))
		w.marks.mark(cJoined, at)
		w.checkSettled(c, at)
	case protocol.EvChannelJoinFailed:
		w.cnt.add(cFailed, 1)
		w.errs.add(fmt.Sprintf("onChannelJoinFailed %d", ev.Ecode))
	case protocol.EvChannelUserList:
		w.cnt.add(cEvents, 1)
		w.cnt.max(cListMax, int64(len(ev.Accounts)))
		for _, a := range ev.Accounts {
			c.seen.set(w.index(a))
		}
		w.marks.mark(cNotice, at)
		w.checkSettled(c, at)
	case protocol.EvChannelUserJoined:
		w.cnt.add(cEvents, 1)
		c.seen.set(w.index(ev.Account))
		w.marks.mark(cNotice, at)
		w.checkSettled(c, at)
	case protocol.EvChannelUserLeaved:
		w.cnt.add(cEvents, 1)
		c.seen.clear(w.index(ev.Account))
		c.seenN.Store(int32(c.seen.n))
	case protocol.EvError:
		if ev.Name == protocol.OpLogin || ev.Name == protocol.OpChannelJoin {
			w.cnt.add(cFailed, 1) // a storm's request that failed
		}
		w.errs.add(fmt.Sprintf("onError %s %d", ev.Name, ev.Ecode))
	case protocol.EvLogout:
		w.errs.add(fmt.Sprintf("onLogout %d", ev.Ecode))
	default:
		w.cnt.add(cEvents, 1)
	}
}

// checkSettled notes when a member's view of the channel holds every member.
func (w *worker) checkSettled(c *Conn, at time.Time) {
	c.seenN.Store(int32(c.seen.n))
	if c.settled || c.seen.w == nil || c.seen.n < w.spec.N {
		return
	}
	c.settled = true
	w.cnt.add(cSettled, 1)
	w.hist(hSettled).Record(at.Sub(time.Unix(0, w.phaseStart.Load())))
	w.marks.mark(cSettled, at)
}

func (w *worker) onChannelMsg(_ *Conn, stamp int64, at time.Time) { w.onMessage(stamp, at) }

func (w *worker) onMessage(stamp int64, at time.Time) {
	switch {
	case stamp == 0:
		w.cnt.add(cEvents, 1)
	case stamp < w.phaseStart.Load():
		w.cnt.add(cLateFrame, 1)
	default:
		w.cnt.add(cReceived, 1)
		w.hist(hLatency).Record(at.Sub(time.Unix(0, stamp)))
		w.marks.mark(cReceived, at)
	}
}
