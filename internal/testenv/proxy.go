package testenv

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// Proxy is a TCP proxy in front of an edge, so that a test can cut a
// client's connection the way a network does, without the client's knowing.
type Proxy struct {
	t      testing.TB
	target string
	l      net.Listener

	mu      sync.Mutex
	conns   []net.Conn
	refuse  bool
	accepts int
}

// NewProxy proxies to the host:port of the WebSocket URL target.
func NewProxy(t testing.TB, targetURL string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hostPort := strings.TrimPrefix(targetURL, "ws://")
	hostPort = hostPort[:strings.IndexByte(hostPort, '/')]
	p := &Proxy{t: t, target: hostPort, l: l}
	t.Cleanup(func() { l.Close(); p.Drop() })
	go p.accept()
	return p
}

// URL is the WebSocket URL through the proxy.
func (p *Proxy) URL() string { return "ws://" + p.l.Addr().String() + "/ws" }

// Drop cuts every open connection.
func (p *Proxy) Drop() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// Refuse makes the proxy close new connections at once (true) or pass them
// (false).
func (p *Proxy) Refuse(on bool) {
	p.mu.Lock()
	p.refuse = on
	p.mu.Unlock()
}

// Accepts is how many connections the proxy has passed on.
func (p *Proxy) Accepts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepts
}

func (p *Proxy) accept() {
	for {
		in, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.refuse
		p.mu.Unlock()
		if refuse {
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.accepts++
		p.mu.Unlock()
		go pipe(in, out)
		go pipe(out, in)
	}
}

func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}
