package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sys/unix"

	"github.com/switchboard-io/switchboard/protocol"
)

// A load connection on ws:// is read by a poller, not by a goroutine of its
// own. With a goroutine per connection, every frame that arrives costs a
// read that finds it, a read that finds the socket empty, and a goroutine
// woken and parked again: as much CPU as the server spends on the frame, so
// the load could not be cheaper than what it measures. A poller waits on an
// epoll set of its connections and reads each ready socket once, into one
// large buffer; that epoll set is itself waited on through Go's netpoller,
// so an idle poller holds no thread. A load process has one poller per core
// (GOMAXPROCS). wss:// connections keep gorilla's reader.

// pollBuf is what one read may take from a socket.
const pollBuf = 256 << 10

// poller reads the sockets of its connections when they are ready.
type poller struct {
	epfd int
	ep   *os.File // epfd, for the netpoller
	rc   syscall.RawConn
	buf  []byte
	evs  [128]unix.EpollEvent

	mu    sync.Mutex
	conns map[int32]*Conn // by socket
}

var (
	pollersOnce sync.Once
	pollers     []*poller
	pollersErr  error
	pollerNext  atomic.Uint32
)

// pollerFor returns the poller a new connection joins, starting this
// process's pollers the first time.
func pollerFor() (*poller, error) {
	pollersOnce.Do(func() {
		for range runtime.GOMAXPROCS(0) {
			p, err := newPoller()
			if err != nil {
				pollersErr = err
				return
			}
			pollers = append(pollers, p)
		}
	})
	if pollersErr != nil {
		return nil, pollersErr
	}
	return pollers[pollerNext.Add(1)%uint32(len(pollers))], nil
}

func newPoller() (*poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	// A non-blocking descriptor makes os.NewFile hand it to the netpoller.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	ep := os.NewFile(uintptr(fd), "epoll")
	rc, err := ep.SyscallConn()
	if err != nil {
		ep.Close()
		return nil, err
	}
	p := &poller{epfd: fd, ep: ep, rc: rc, buf: make([]byte, pollBuf), conns: make(map[int32]*Conn)}
	go p.run()
	return p, nil
}

// run reads ready sockets for as long as the process lives. The sockets
// are edge-triggered: each is reported once for what arrived, and read
// until a read leaves the buffer room to spare (see readReady). Whatever
// arrives later reports it again, and wakes the netpoller's wait on the
// epoll set: after a batch, the poller waits there rather than asking the
// set again, which would be a system call that mostly finds nothing.
func (p *poller) run() {
	err := p.rc.Read(func(uintptr) bool {
		for {
			n, err := unix.EpollWait(p.epfd, p.evs[:], 0)
			if err == unix.EINTR {
				continue
			}
			for i := range p.evs[:max(n, 0)] {
				p.mu.Lock()
				c := p.conns[p.evs[i].Fd]
				p.mu.Unlock()
				if c != nil {
					p.readReady(c)
				}
			}
			if n < len(p.evs) {
				return false
			}
			// A full batch: more are ready. The process's other
			// goroutines (the sender above all, on a load of one core)
			// get their turn first.
			runtime.Gosched()
		}
	})
	fmt.Fprintln(os.Stderr, "sigbench: a poller stopped:", err)
}

func (p *poller) add(c *Conn) error {
	p.mu.Lock()
	p.conns[int32(c.fd)] = c
	p.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(c.fd)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		p.mu.Lock()
		delete(p.conns, int32(c.fd))
		p.mu.Unlock()
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// readReady reads c's socket until a read leaves room in the buffer, which
// means the socket had no more, and handles every whole frame read.
func (p *poller) readReady(c *Conn) {
	for {
		n, err := unix.Read(c.fd, p.buf)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return
		}
		if err == nil && n == 0 {
			err = io.EOF
		}
		if err != nil {
			p.drop(c, os.NewSyscallError("read", err))
			return
		}
		if err := c.feed(p.buf[:n], time.Now()); err != nil {
			p.drop(c, err)
			return
		}
		if n < len(p.buf) {
			return
		}
	}
}

// drop ends c: the poller is the only one that closes a polled socket, so
// that no read or write can reach a descriptor number the kernel has
// already given to another socket.
func (p *poller) drop(c *Conn, why error) {
	p.mu.Lock()
	delete(p.conns, int32(c.fd))
	p.mu.Unlock()
	_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	c.wmu.Lock()
	fd := c.fd
	c.closed = true
	c.wmu.Unlock()
	unix.Close(fd)
	c.rerr = why
	close(c.done)
}

// feed takes bytes read from c's socket, handles every whole frame among
// what it kept from before and them, and keeps the rest.
func (c *Conn) feed(b []byte, at time.Time) error {
	data := b
	if len(c.pend) > 0 {
		c.pend = append(c.pend, b...)
		data = c.pend
	}
	used, err := c.frames(data, at)
	if err != nil {
		return err
	}
	rest := data[used:]
	switch {
	case len(rest) == 0 && cap(c.pend) > 64<<10:
		c.pend = nil // a large frame's buffer is not kept for ever
	case len(c.pend) > 0:
		c.pend = c.pend[:copy(c.pend, rest)]
	default:
		c.pend = append(c.pend[:0], rest...)
	}
	return nil
}

// WebSocket opcodes (RFC 6455, section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// errFrame is a frame no server may send.
var errFrame = errors.New("websocket: bad frame from the server")

// nextFrame splits the first frame off data: size is 0 when data does not
// hold a whole frame yet.
func nextFrame(data []byte) (fin bool, op byte, payload []byte, size int, err error) {
	if len(data) < 2 {
		return false, 0, nil, 0, nil
	}
	fin, op = data[0]&0x80 != 0, data[0]&0x0f
	if data[0]&0x70 != 0 || data[1]&0x80 != 0 {
		// Reserved bits (no extension was agreed) or a masked frame.
		return false, 0, nil, 0, errFrame
	}
	n, h := uint64(data[1]&0x7f), 2
	switch n {
	case 126:
		if len(data) < 4 {
			return false, 0, nil, 0, nil
		}
		n, h = uint64(binary.BigEndian.Uint16(data[2:])), 4
	case 127:
		if len(data) < 10 {
			return false, 0, nil, 0, nil
		}
		n, h = binary.BigEndian.Uint64(data[2:]), 10
		if n > 1<<31 {
			return false, 0, nil, 0, errFrame
		}
	}
	if uint64(len(data)-h) < n {
		return false, 0, nil, 0, nil
	}
	return fin, op, data[h : h+int(n)], h + int(n), nil
}

// frames handles the whole frames at the start of data and says how many
// bytes they took.
func (c *Conn) frames(data []byte, at time.Time) (int, error) {
	used := 0
	for {
		fin, op, payload, size, err := nextFrame(data[used:])
		if err != nil {
			return used, err
		}
		if size == 0 {
			return used, nil
		}
		used += size
		switch op {
		case opText, opBinary:
			if !fin {
				c.frag = append(c.frag[:0], payload...)
				c.inFrag = true
				continue
			}
			c.handle(payload, at)
		case opContinuation:
			if !c.inFrag {
				return used, errFrame
			}
			c.frag = append(c.frag, payload...)
			if fin {
				c.inFrag = false
				c.handle(c.frag, at)
			}
		case opPing:
			_ = c.writeRaw(opPong, payload)
		case opPong:
		case opClose:
			ce := &websocket.CloseError{Code: websocket.CloseNoStatusReceived}
			if len(payload) >= 2 {
				ce.Code = int(binary.BigEndian.Uint16(payload))
				ce.Text = string(payload[2:])
			}
			_ = c.writeRaw(opClose, payload[:min(2, len(payload))])
			return used, ce
		default:
			return used, errFrame
		}
	}
}

// writeRaw writes one masked frame (a client's frames are masked, RFC 6455
// section 5.3) to a polled socket.
func (c *Conn) writeRaw(op byte, b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	f := append(c.wbuf[:0], 0x80|op)
	switch n := len(b); {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xffff:
		f = append(f, 0x80|126, byte(n>>8), byte(n))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], mrand.Uint32())
	f = append(f, key[:]...)
	start := len(f)
	f = append(f, b...)
	for i := range f[start:] {
		f[start+i] ^= key[i&3]
	}
	c.wbuf = f
	deadline := time.Now().Add(10 * time.Second)
	for len(f) > 0 {
		n, err := unix.Write(c.fd, f)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			// The socket's buffer is full: the server is not reading.
			wait := time.Until(deadline)
			if wait <= 0 {
				return os.ErrDeadlineExceeded
			}
			pfd := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLOUT}}
			if _, err := unix.Poll(pfd, int(wait/time.Millisecond)+1); err != nil && err != unix.EINTR {
				return os.NewSyscallError("poll", err)
			}
			continue
		case err != nil:
			return os.NewSyscallError("write", err)
		}
		f = f[n:]
	}
	return nil
}

// closeRaw says goodbye on a polled socket and shuts it: the poller then
// reads its end and closes it.
func (c *Conn) closeRaw() {
	_ = c.writeRaw(opClose, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	c.wmu.Lock()
	if !c.closed {
		_ = unix.Shutdown(c.fd, unix.SHUT_RDWR)
	}
	c.wmu.Unlock()
}

// dialPolled opens a connection on ws:// whose socket a poller reads: the
// handshake and the edge's hello go through Go's own socket, which then
// hands a duplicate of its descriptor to the poller and closes.
func dialPolled(ctx context.Context, d *websocket.Dialer, u *url.URL, o DialOptions) (*Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.HandshakeTimeout)
	defer cancel()
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	nc, err := d.NetDialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	rest, err := handshake(nc, u, d.Subprotocols)
	if err != nil {
		return nil, err
	}
	hello, rest, err := firstFrame(nc, rest)
	if err != nil {
		return nil, fmt.Errorf("hello: %w", err)
	}
	var ev protocol.Event
	if json.Unmarshal(hello, &ev) != nil || ev.Ev != protocol.EvHello {
		return nil, fmt.Errorf("hello: unexpected first frame %.60q", hello)
	}
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil, fmt.Errorf("dialing %s gave a %T, not a TCP socket", host, nc)
	}
	sc, err := tc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd, derr := -1, error(nil)
	if err := sc.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, os.NewSyscallError("fcntl", derr)
	}
	// The duplicate shares the socket's non-blocking mode; closing Go's
	// descriptor (deferred) takes it out of the netpoller and leaves the
	// socket open.
	c := newConn(o)
	c.fd = fd
	if len(rest) > 0 {
		if err := c.feed(rest, time.Now()); err != nil {
			unix.Close(fd)
			return nil, err
		}
	}
	p, err := pollerFor()
	if err == nil {
		err = p.add(c)
	}
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return c, nil
}

// handshake opens a WebSocket on nc as a client (RFC 6455, section 4.1)
// and returns what the server sent after its answer.
func handshake(nc net.Conn, u *url.URL, subprotocols []string) ([]byte, error) {
	var k [16]byte
	_, _ = rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", u.RequestURI(), u.Host, key)
	if len(subprotocols) > 0 {
		fmt.Fprintf(&req, "Sec-WebSocket-Protocol: %s\r\n", strings.Join(subprotocols, ", "))
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(nc, req.String()); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 4096)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, fmt.Errorf("handshake: HTTP %d", resp.StatusCode)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") ||
		resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		return nil, errors.New("handshake: the server's answer is not a WebSocket's")
	}
	rest, _ := br.Peek(br.Buffered())
	return append([]byte(nil), rest...), nil
}

// firstFrame reads the first text frame from nc, after what buf already
// holds, and returns it and what came after it.
func firstFrame(nc net.Conn, buf []byte) (frame, rest []byte, err error) {
	for {
		fin, op, payload, size, err := nextFrame(buf)
		if err != nil {
			return nil, nil, err
		}
		if size > 0 {
			if op != opText || !fin {
				return nil, nil, fmt.Errorf("first frame has opcode %d", op)
			}
			return payload, buf[size:], nil
		}
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, 4096)...)[:len(buf)]
		}
		n, err := nc.Read(buf[len(buf):cap(buf)])
		if err != nil {
			return nil, nil, err
		}
		buf = buf[:len(buf)+n]
	}
}
