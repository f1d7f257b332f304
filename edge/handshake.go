package edge

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-io/switchboard/metrics"
)

// The WebSocket handshake is where an edge refuses what it need not serve:
// pages from origins it does not trust, and more connections from one source
// address than the cap allows. Both answer in HTTP before the upgrade, so a
// refused client costs no connection state.

// AnyOrigin in Config.AllowedOrigins lets pages from any origin connect.
const AnyOrigin = "*"

// DefaultMaxConnsPerAddr is the default cap on connections from one source
// IP address.
const DefaultMaxConnsPerAddr = 1000

// DefaultLoginTimeout is how long a connection may stay without a session.
const DefaultLoginTimeout = 15 * time.Second

// ParseAllowedOrigins reads a comma-separated list of origins
// (scheme://host[:port], as browsers send them in the Origin header), or "*"
// for any. An empty string gives nil: pages from the edge's own host only.
func ParseAllowedOrigins(list string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o == AnyOrigin {
			out = append(out, o)
			continue
		}
		o = strings.ToLower(strings.TrimSuffix(o, "/"))
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, errors.New("an allowed origin is scheme://host[:port], such as https://app.example.com, or *")
		}
		out = append(out, o)
	}
	return out, nil
}

// originAllowed says whether a handshake may go on. Origin exists to stop
// browsers from opening connections for pages of other sites; a client that
// sends none (the Go SDK, sigbench, a test) is not a browser and may connect,
// as the token decides what it may do.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if len(s.cfg.AllowedOrigins) == 0 {
		// Same host, as gorilla's default check: the page was served by
		// the host the client connects to.
		u, err := url.Parse(origin)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
	origin = strings.ToLower(strings.TrimSuffix(origin, "/"))
	for _, o := range s.cfg.AllowedOrigins {
		if o == AnyOrigin || o == origin {
			return true
		}
	}
	return false
}

// admission counts the connections of each source address, and limits the
// warnings about refused handshakes to one per address and minute, so that a
// flood of them fills neither the map nor the log.
type admission struct {
	mu      sync.Mutex
	perAddr map[string]int
	warned  map[string]time.Time
}

// maxWarned bounds the addresses whose last warning is remembered; past it,
// old entries are dropped, and while every entry is recent, new addresses
// are counted in metrics but not logged.
const maxWarned = 4096

// warnEvery is the least time between two warnings about one address.
const warnEvery = time.Minute

// admit reserves a connection for addr unless it has max already; max <= 0
// admits any number. Every admitted connection is released once.
func (a *admission) admit(addr string, max int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if max > 0 && a.perAddr[addr] >= max {
		return false
	}
	if a.perAddr == nil {
		a.perAddr = map[string]int{}
	}
	a.perAddr[addr]++
	return true
}

// release gives back a connection of addr.
func (a *admission) release(addr string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.perAddr[addr] <= 1 {
		delete(a.perAddr, addr)
		return
	}
	a.perAddr[addr]--
}

// shouldWarn says whether a refusal of kind from addr is logged now.
func (a *admission) shouldWarn(kind, addr string, now time.Time) bool {
	key := kind + " " + addr
	a.mu.Lock()
	defer a.mu.Unlock()
	if last, ok := a.warned[key]; ok && now.Sub(last) < warnEvery {
		return false
	}
	if len(a.warned) >= maxWarned {
		for k, t := range a.warned {
			if now.Sub(t) >= warnEvery {
				delete(a.warned, k)
			}
		}
		if len(a.warned) >= maxWarned {
			return false
		}
	}
	if a.warned == nil {
		a.warned = map[string]time.Time{}
	}
	a.warned[key] = now
	return true
}

// peerIP is the IP address of the TCP peer. X-Forwarded-For is not
// believed: any client can send it. Behind a proxy, the proxy's address is
// what counts.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// maxLoggedOrigin bounds what a log line repeats of a refused Origin header,
// which the client chose.
const maxLoggedOrigin = 128

// refuseOrigin answers a handshake from an origin that is not allowed.
func (s *Server) refuseOrigin(w http.ResponseWriter, r *http.Request, ip string) {
	s.Metrics.Refused(metrics.RefusedOrigin)
	if s.adm.shouldWarn(metrics.RefusedOrigin, ip, time.Now()) {
		origin := r.Header.Get("Origin")
		if len(origin) > maxLoggedOrigin {
			origin = origin[:maxLoggedOrigin] + "…"
		}
		s.log.Warn("WebSocket handshake refused: origin not allowed (SB_ALLOWED_ORIGINS)",
			"kind", metrics.RefusedOrigin, "origin", origin, "remote", r.RemoteAddr)
	}
	http.Error(w, "origin not allowed", http.StatusForbidden)
}

// refuseAddr answers a handshake from an address that has its cap of
// connections.
func (s *Server) refuseAddr(w http.ResponseWriter, r *http.Request, ip string) {
	s.Metrics.Refused(metrics.RefusedAddrLimit)
	if s.adm.shouldWarn(metrics.RefusedAddrLimit, ip, time.Now()) {
		s.log.Warn("WebSocket handshake refused: too many connections from this address (SB_MAX_CONNS_PER_ADDR)",
			"kind", metrics.RefusedAddrLimit, "remote", r.RemoteAddr, "max", s.cfg.MaxConnsPerAddr)
	}
	http.Error(w, "too many connections from this address", http.StatusTooManyRequests)
}
