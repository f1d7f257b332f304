package hostile

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// FuzzConnection drives the connection state machine of real edges and a
// real worker with random sequences of the protocol's operations: logins,
// resumes with real and made-up secrets, acks of any count, joins, leaves,
// sends, logouts, bad frames and dropped connections, on two edges so that
// sessions move. After each sequence the edges must have recovered no panic
// and must still log a user in. `go test` runs the seeds; `make fuzz` runs
// it for a bounded time (CI does).
func FuzzConnection(f *testing.F) {
	f.Add([]byte{0, 0, 7, 1, 8, 3, 4, 3, 3})              // login, send, logout, acks after it
	f.Add([]byte{0, 1, 4, 2, 10, 1, 1, 3, 2, 6, 2, 5, 2}) // login, join, drop, resume elsewhere, send, leave
	f.Add([]byte{2, 0, 2, 1, 2, 2, 2, 3, 2, 4, 2, 5})     // resumes that cannot work, then more
	f.Add([]byte{9, 0, 9, 1, 9, 2, 9, 3, 0, 2, 11, 1})    // bad frames, then a login and attributes
	f.Add([]byte{0, 0, 4, 0, 6, 0, 3, 4, 5, 0, 3, 3, 8, 3, 1})
	env := testenv.Start(f, testenv.Options{Edges: 2})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		fz := &fuzzer{t: t, env: env}
		defer fz.closeAll()
		for i := 0; i < len(ops); i++ {
			arg := byte(0)
			if i+1 < len(ops) {
				arg = ops[i+1]
			}
			if fz.step(ops[i], arg) {
				i++
			}
		}
		fz.closeAll()
		for i, e := range env.Edges {
			if n := e.Edge.Panics(); n != 0 {
				t.Fatalf("edge %d recovered %d panics", i, n)
			}
		}
		// The node still serves: a fresh login works on each edge.
		for i := range env.Edges {
			r := testenv.Dial(t, env.URL(i))
			r.Login("checker")
			r.WS.Close()
		}
	})
}

// fuzzer is one sequence's client: one connection at a time, on either
// edge, with what it learned (the latest secret).
type fuzzer struct {
	t      *testing.T
	env    *testenv.Env
	ws     *websocket.Conn
	edge   int
	mu     sync.Mutex
	secret string
	conns  []*websocket.Conn
}

var (
	fuzzAccounts = []string{"fa", "fb", "fc"}
	fuzzChannels = []string{"c1", "c2", "_agora_user_online"}
	fuzzCounts   = []uint64{0, 1, 2, 5, 64, 1 << 40, 1<<64 - 1}
	fuzzBad      = []string{"{", "[]", `{"op":"nope"}`, `{"op":"ack","n":-1}`, `{"op":"channelJoin","channelID":"` + strings.Repeat("é", 200) + `"}`, "\x00\xff"}
)

func pick[T any](list []T, b byte) T { return list[int(b)%len(list)] }

// step sends one operation; it reports whether it used arg.
func (fz *fuzzer) step(op, arg byte) bool {
	if fz.ws == nil {
		fz.dial()
	}
	send := func(r protocol.Request) {
		_ = fz.ws.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_ = fz.ws.WriteJSON(r)
	}
	switch op % 12 {
	case 0:
		send(protocol.Request{Op: protocol.OpLogin, AppID: testenv.App.ID, Account: pick(fuzzAccounts, arg), Token: "_no_need_token"})
	case 1:
		fz.mu.Lock()
		secret := fz.secret
		fz.mu.Unlock()
		send(protocol.Request{Op: protocol.OpResume, AppID: testenv.App.ID, Account: pick(fuzzAccounts, arg), Session: secret, N: pick(fuzzCounts, arg)})
	case 2:
		send(protocol.Request{Op: protocol.OpResume, AppID: testenv.App.ID, Account: pick(fuzzAccounts, arg), Session: strings.Repeat("Z", int(arg)%50), N: uint64(arg)})
	case 3:
		send(protocol.Request{Op: protocol.OpAck, N: pick(fuzzCounts, arg)})
	case 4:
		send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: pick(fuzzChannels, arg)})
	case 5:
		send(protocol.Request{Op: protocol.OpChannelLeave, ChannelID: pick(fuzzChannels, arg)})
	case 6:
		send(protocol.Request{Op: protocol.OpMessageChannelSend, ChannelID: pick(fuzzChannels, arg), Msg: "m"})
	case 7:
		send(protocol.Request{Op: protocol.OpMessageInstantSend, Account: pick(fuzzAccounts, arg), Msg: "m"})
	case 8:
		send(protocol.Request{Op: protocol.OpLogout})
		return false
	case 9:
		_ = fz.ws.SetWriteDeadline(time.Now().Add(2 * time.Second))
		typ := websocket.TextMessage
		if arg&1 == 1 {
			typ = websocket.BinaryMessage
		}
		_ = fz.ws.WriteMessage(typ, []byte(pick(fuzzBad, arg>>1)))
	case 10:
		fz.ws.Close()
		fz.ws = nil
		fz.edge = int(arg) % len(fz.env.Edges)
	case 11:
		send(protocol.Request{Op: protocol.OpChannelSetAttr, ChannelID: pick(fuzzChannels, arg), Name: "_sendmsg_limit", Value: "1"})
	}
	return true
}

// dial connects to the current edge and reads its frames in the
// background, keeping the latest session secret.
func (fz *fuzzer) dial() {
	d := websocket.Dialer{Subprotocols: []string{protocol.Subprotocol}, HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial(fz.env.URL(fz.edge), nil)
	if err != nil {
		fz.t.Fatalf("dial: %v", err)
	}
	fz.ws = ws
	fz.conns = append(fz.conns, ws)
	go func() {
		for {
			_ = ws.SetReadDeadline(time.Now().Add(time.Minute))
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if ev, err := testenv.Decode(data); err == nil && ev.Ev == protocol.EvLoginSuccess {
				fz.mu.Lock()
				fz.secret = ev.Session
				fz.mu.Unlock()
			}
		}
	}()
}

func (fz *fuzzer) closeAll() {
	for _, ws := range fz.conns {
		ws.Close()
	}
	fz.conns, fz.ws = nil, nil
}
