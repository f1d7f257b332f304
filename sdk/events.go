package sdk

import (
	"encoding/json"
	"slices"

	"github.com/switchboard-io/switchboard/protocol"
)

// handle processes one frame from the edge: session bookkeeping first, then
// the callback.
func (c *Client) handle(s *session, cn *conn, data []byte) (ended bool, moveTo string, moved bool) {
	var ev protocol.Event
	err := json.Unmarshal(data, &ev)

	c.mu.Lock()
	defer c.mu.Unlock()
	if s.ended {
		return true, "", false
	}
	if err != nil {
		c.logf("undecodable frame: %.64q", data)
		c.countLocked(s, cn, false)
		return false, "", false
	}

	switch ev.Ev {
	case protocol.EvHello:
		return false, "", false
	case protocol.EvLoginSuccess:
		s.token, s.count, s.acked = ev.Session, 0, 0
		c.status = StatusLoggedIn
		if s.loggedIn {
			// A re-login after resumeFailed: the new session is in no
			// channel yet, so join the old ones before anything queued,
			// which may be about them.
			c.logf("logged in again; joining %d channels", len(s.channels))
			for _, ch := range s.channels {
				cn.sendJSON(&protocol.Request{Op: protocol.OpChannelJoin, ChannelID: ch})
			}
			s.rejoining = slices.Clone(s.channels)
			c.flushLocked(s, cn)
			fd := ev.FD
			c.post(func(cb Callback) { cb.OnReconnected(fd) })
		} else {
			s.loggedIn = true
			c.postEvent(ev)
		}
	case protocol.EvLoginFailed:
		if s.loggedIn {
			c.logf("login after resumeFailed failed: %d", ev.Ecode)
			c.endLocked(s, false, func(cb Callback) { cb.OnLogout(protocol.LogoutNet) })
		} else {
			c.endLocked(s, false, func(cb Callback) { deliver(cb, &ev) })
		}
		return true, "", false
	case protocol.EvReconnected:
		c.status = StatusLoggedIn
		c.flushLocked(s, cn)
		c.postEvent(ev)
	case protocol.EvResumeFailed:
		c.logf("resume failed; logging in again")
		s.token, s.count, s.acked = "", 0, 0
		cn.sendJSON(&s.login)
	case protocol.EvMove:
		return false, ev.URL, true
	default:
		c.countLocked(s, cn, ev.Ack)
		switch ev.Ev {
		case protocol.EvChannelJoined:
			if !slices.Contains(s.channels, ev.ChannelID) {
				s.channels = append(s.channels, ev.ChannelID)
			}
			s.rejoining = remove(s.rejoining, ev.ChannelID)
		case protocol.EvChannelLeaved:
			s.channels = remove(s.channels, ev.ChannelID)
		case protocol.EvChannelJoinFailed:
			// Only a failed re-join takes a channel off the list: a failed
			// join of a channel the user is already in leaves them in it.
			if slices.Contains(s.rejoining, ev.ChannelID) {
				s.rejoining = remove(s.rejoining, ev.ChannelID)
				s.channels = remove(s.channels, ev.ChannelID)
			}
		case protocol.EvMessageSendSuccess, protocol.EvMessageSendError:
			if !c.answeredLocked(s, ev.MessageID) {
				c.logf("late answer for message %s dropped: it timed out", ev.MessageID)
				return false, "", false
			}
		case protocol.EvLogout:
			// Whatever the code, the session is over: never resume it.
			c.endLocked(s, false, func(cb Callback) { deliver(cb, &ev) })
			return true, "", false
		}
		c.postEvent(ev)
	}
	return false, "", false
}

// countLocked counts an event frame of the session and acknowledges at once
// when the frame asks for it, or when ackEvery frames are unacknowledged.
// Frames before login belong to no session and are not counted.
func (c *Client) countLocked(s *session, cn *conn, ack bool) {
	if s.token == "" {
		return
	}
	s.count++
	if ack || s.count-s.acked >= ackEvery {
		s.acked = s.count
		cn.sendJSON(&protocol.Request{Op: protocol.OpAck, N: s.count})
	}
}

// flushLocked sends the requests queued while reconnecting, in order.
func (c *Client) flushLocked(s *session, cn *conn) {
	for _, p := range s.pending {
		cn.send(p.frame)
	}
	s.pending = nil
}

func remove(list []string, v string) []string {
	return slices.DeleteFunc(list, func(x string) bool { return x == v })
}
