package sdk

import (
	"testing"

	"github.com/switchboard-io/switchboard/protocol"
)

func TestAck_SentAtOnceForAckFrame(t *testing.T) {
	e := newEdge(t)
	_, r, ec := loggedIn(t, e, "alice", "s1")
	ec.send(protocol.Event{Ev: protocol.EvMessageSendSuccess, MessageID: "m1"})
	ec.send(protocol.Event{Ev: protocol.EvQueryUserStatusResult, Name: "bob", Status: "1"})
	ec.send(protocol.Event{Ev: protocol.EvMessageInstantReceive, Account: "bob", Msg: "hi", Ack: true})
	if ack := ec.expect(protocol.OpAck); ack.N != 3 {
		t.Fatalf("ack n = %d, want 3", ack.N)
	}
	r.expect("OnMessageSendSuccess", "m1")
	r.expect("OnQueryUserStatusResult", "bob", "1")
	r.expect("OnMessageInstantReceive", "bob", uint32(0), "hi")
}

func TestAck_SentEvery64Frames(t *testing.T) {
	e := newEdge(t)
	c, _, ec := loggedIn(t, e, "alice", "s1")
	for range 2*ackEvery + 10 {
		ec.send(protocol.Event{Ev: protocol.EvChannelAttrUpdated, ChannelID: "room", Name: "k", Value: "v", Type: "update"})
	}
	if ack := ec.expect(protocol.OpAck); ack.N != ackEvery {
		t.Fatalf("first ack n = %d, want %d", ack.N, ackEvery)
	}
	if ack := ec.expect(protocol.OpAck); ack.N != 2*ackEvery {
		t.Fatalf("second ack n = %d, want %d", ack.N, 2*ackEvery)
	}
	// The ten after that are not acknowledged yet: the next frame is a request.
	c.GetAttrAll()
	ec.expect(protocol.OpGetAttrAll)
}

func TestAck_ControlFramesAreNotCounted(t *testing.T) {
	e := newEdge(t)
	_, r, ec := loggedIn(t, e, "alice", "s1")
	ec.send(protocol.Event{Ev: protocol.EvHello, V: 1, Ping: 10000}) // control: not counted
	ec.send(protocol.Event{Ev: protocol.EvMessageInstantReceive, Account: "bob", Msg: "hi", Ack: true})
	if ack := ec.expect(protocol.OpAck); ack.N != 1 {
		t.Fatalf("ack n = %d, want 1", ack.N)
	}
	r.expect("OnMessageInstantReceive", "bob", uint32(0), "hi")
}
