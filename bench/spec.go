package bench

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/switchboard-io/switchboard/token"
)

// Scenarios.
const (
	Connect = "connect" // N idle logged-in connections
	Login   = "login"   // a storm of N logins on open connections
	P2P     = "p2p"     // peer messages at a fixed rate among N users
	Fanout  = "fanout"  // one channel of N members, publishers at a fixed rate
	Join    = "join"    // N users joining one channel at once
)

// Scenarios lists every scenario, in the order of a standard run.
var Scenarios = []string{Connect, Login, P2P, Fanout, Join}

// UserRate is the most messages a load user sends per second: under the
// edge's limit of 60 per user and second, with room for the edge's window
// and the sender's schedule to disagree.
const UserRate = 50

// Spec says what one scenario run does.
type Spec struct {
	Scenario string `json:"scenario"`
	// N is the number of connections (connect, login), users (p2p) or
	// channel members (fanout, join).
	N int `json:"n"`
	// Rate is messages per second, all senders together (p2p, fanout); the
	// start of the search with Search.
	Rate     float64       `json:"rate,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
	// Publishers is how many users publish (fanout); 0 picks enough for
	// Rate at UserRate each.
	Publishers int `json:"publishers,omitempty"`
	// Outside makes the publishers users outside the channel, sending with
	// messageChannelSendForce, so that their number is not bounded by the
	// members'; otherwise they are the first members.
	Outside bool `json:"outside,omitempty"`
	// MsgSize is the length of each message's text, in bytes.
	MsgSize int `json:"msgSize,omitempty"`
	// Search makes fanout look for the highest rate whose delivery latency
	// p99 stays within P99Target.
	Search    bool          `json:"search,omitempty"`
	P99Target time.Duration `json:"p99Target,omitempty"`
	// Steps bounds the search.
	Steps int `json:"steps,omitempty"`
	// Settle is the pause before the server is measured after a setup.
	Settle time.Duration `json:"settle,omitempty"`
	// Hold keeps the connections of connect open this long after the
	// measurement.
	Hold time.Duration `json:"hold,omitempty"`
	// Timeout bounds the setup and each phase.
	Timeout time.Duration `json:"timeout,omitempty"`
	// Drain bounds how long each load process waits, once the sending
	// time is over, for the last answers and deliveries (it stops sooner
	// when nothing has arrived for a second).
	Drain time.Duration `json:"drain,omitempty"`
	// ReadBuffer is the read buffer of each wss:// load connection, in
	// bytes (a poller reads ws:// connections through one buffer of its own).
	ReadBuffer int `json:"readBuffer,omitempty"`
}

// withDefaults fills what the caller left out.
func (s Spec) withDefaults() Spec {
	if s.N <= 0 {
		switch s.Scenario {
		case Fanout:
			s.N = 100
		case Join:
			s.N = 200
		default:
			s.N = 1000
		}
	}
	if s.Rate <= 0 {
		switch {
		case s.Scenario == P2P:
			s.Rate = 1000
		case s.Scenario == Fanout && s.Search:
			// Start the search at 20,000 deliveries a second.
			s.Rate = math.Max(1, math.Round(20000/float64(max(1, s.N-1))))
		case s.Scenario == Fanout:
			s.Rate = 100
		}
	}
	if s.Duration <= 0 {
		s.Duration = 10 * time.Second
	}
	if s.MsgSize <= 0 {
		s.MsgSize = 64
	}
	if s.P99Target <= 0 {
		s.P99Target = 50 * time.Millisecond
	}
	if s.Steps <= 0 {
		s.Steps = 8
	}
	if s.Settle <= 0 {
		s.Settle = 2 * time.Second
	}
	if s.Timeout <= 0 {
		s.Timeout = 2 * time.Minute
	}
	if s.Drain <= 0 {
		s.Drain = 15 * time.Second
	}
	if s.Scenario == Fanout && s.Publishers <= 0 {
		s.Publishers = publishersFor(s)
	}
	if s.ReadBuffer <= 0 {
		s.ReadBuffer = defaultReadBuffer
		if s.Scenario == P2P || s.Scenario == Fanout {
			s.ReadBuffer = messageReadBuffer
		}
	}
	return s
}

// A connection that receives messages reads through 16 KB: a member of a
// busy channel finds dozens of frames queued on its socket and takes them in
// one read, where 1 KB took a read for every few. Idle connections keep
// gorilla's 4 KB, so that tens of thousands fit in a load process.
const (
	defaultReadBuffer = 4 << 10
	messageReadBuffer = 16 << 10
)

// publishersFor picks enough publishers for the rate (for a search, for a
// rate well above it), at most every member.
func publishersFor(s Spec) int {
	want := s.Rate
	if s.Search {
		want = math.Max(s.Rate*64, 10000)
	}
	p := max(1, int(math.Ceil(want/UserRate)))
	if s.Outside {
		return min(p, 1000)
	}
	return min(p, s.N)
}

// users is how many users the run connects: the members, and outside
// publishers.
func (s Spec) users() int {
	if s.Scenario == Fanout && s.Outside {
		return s.N + s.Publishers
	}
	return s.N
}

// isPublisher reports whether user i publishes in a fanout run.
func (s Spec) isPublisher(i int) bool {
	if s.Outside {
		return i >= s.N && i < s.N+s.Publishers
	}
	return i < s.Publishers
}

// publisherRange is the span of user indices that publish.
func (s Spec) publisherRange() (lo, hi int) {
	if s.Outside {
		return s.N, s.N + s.Publishers
	}
	return 0, s.Publishers
}

// check reports a spec the tool cannot run honestly.
func (s Spec) check() error {
	switch s.Scenario {
	case Connect, Login:
	case P2P:
		if s.N < 2 {
			return fmt.Errorf("p2p needs at least 2 users")
		}
		if s.Rate/float64(s.N) > UserRate {
			return fmt.Errorf("p2p at %g msg/s needs at least %d users (-n): each user may send 60 messages a second and the tool keeps to %d",
				s.Rate, int(math.Ceil(s.Rate/UserRate)), UserRate)
		}
	case Fanout:
		if s.N < 2 {
			return fmt.Errorf("fanout needs at least 2 members")
		}
		if s.Publishers > s.N && !s.Outside {
			return fmt.Errorf("fanout: %d publishers but only %d members (publishers from outside the channel: -outside)", s.Publishers, s.N)
		}
		if s.Rate/float64(s.Publishers) > UserRate {
			return fmt.Errorf("fanout at %g msg/s needs at least %d publishers (-publishers; more than -k with -outside): each user may send 60 messages a second and the tool keeps to %d",
				s.Rate, int(math.Ceil(s.Rate/UserRate)), UserRate)
		}
	case Join:
		if s.N < 2 {
			return fmt.Errorf("join needs at least 2 members")
		}
	default:
		return fmt.Errorf("unknown scenario %q (want one of %v)", s.Scenario, Scenarios)
	}
	return nil
}

// Target is the server under load and how to log in to it.
type Target struct {
	// URLs are the WebSocket URLs of the edges; users are spread over them.
	URLs []string `json:"urls"`
	App  string   `json:"app"`
	// Token is the token every login sends, unless Cert is set: then each
	// account gets its own v2 token signed with it.
	Token string `json:"token,omitempty"`
	Cert  string `json:"cert,omitempty"`
}

func (t Target) tokenFor(account string) string {
	if t.Cert != "" {
		return token.GenerateV2(t.App, t.Cert, account, time.Now().Add(24*time.Hour).Unix())
	}
	return t.Token
}

// account is the name of user i of a run.
func account(prefix string, i int) string { return prefix + "-" + strconv.Itoa(i) }

// channelName is the channel of a run.
func channelName(prefix string) string { return prefix + "-room" }
