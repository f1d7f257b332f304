package edge

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// DebugStats is what /debug/stats answers: the process's memory, goroutines,
// garbage collections and CPU time, read at the moment of the request. A load
// tool that knows how many connections it holds divides by that number.
type DebugStats struct {
	Time int64 `json:"time"` // Unix nanoseconds
	PID  int   `json:"pid"`
	// GC reports whether a garbage collection ran just before the reading
	// (?gc=1), so that the heap figures are live memory.
	GC bool `json:"gc"`

	RSSBytes        uint64 `json:"rssBytes"`        // resident set size, from /proc/self/statm
	HeapInuseBytes  uint64 `json:"heapInuseBytes"`  // bytes in in-use heap spans
	HeapAllocBytes  uint64 `json:"heapAllocBytes"`  // bytes of allocated heap objects
	HeapObjects     uint64 `json:"heapObjects"`     // allocated heap objects
	StackInuseBytes uint64 `json:"stackInuseBytes"` // goroutine stacks
	GoSysBytes      uint64 `json:"goSysBytes"`      // everything the Go runtime took from the OS
	Goroutines      int    `json:"goroutines"`
	NumGC           uint32 `json:"numGC"`
	GCPauseTotalNs  uint64 `json:"gcPauseTotalNs"`
	TotalAllocBytes uint64 `json:"totalAllocBytes"` // cumulative bytes allocated
	Mallocs         uint64 `json:"mallocs"`         // cumulative heap objects allocated

	CPUUserSeconds   float64 `json:"cpuUserSeconds"`
	CPUSystemSeconds float64 `json:"cpuSystemSeconds"`
	OpenFiles        int     `json:"openFiles"` // entries of /proc/self/fd; -1 if unknown
	Threads          int     `json:"threads"`   // OS threads, from /proc/self/status; -1 if unknown
	GOMAXPROCS       int     `json:"gomaxprocs"`

	// Edge is filled when an edge serves the endpoint.
	Edge *EdgeCounts `json:"edge,omitempty"`
}

// EdgeCounts are an edge's own counts at the moment of a reading.
type EdgeCounts struct {
	ID string `json:"id"`
	// Conns are open WebSocket connections, Sessions logged-in sessions
	// (attached or waiting for a resume), Users the accounts subscribed on
	// this edge, PendingPeer peer messages waiting for an acknowledgement.
	Conns       int `json:"conns"`
	Sessions    int `json:"sessions"`
	Users       int `json:"users"`
	PendingPeer int `json:"pendingPeer"`
}

// DebugHandler serves /debug/stats (JSON; ?gc=1 collects garbage first) and
// net/http/pprof under /debug/pprof/. It exposes the process's internals:
// serve it on a listener of its own, on loopback, never on the public port.
func DebugHandler() http.Handler { return debugMux(nil) }

// DebugHandler is the package's DebugHandler with this edge's counts added
// to /debug/stats.
func (s *Server) DebugHandler() http.Handler { return debugMux(s) }

func debugMux(s *Server) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/stats", func(w http.ResponseWriter, r *http.Request) {
		gc := r.URL.Query().Get("gc") == "1"
		if gc {
			runtime.GC()
		}
		st := ReadDebugStats()
		st.GC = gc
		if s != nil {
			st.Edge = s.debugCounts()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// ReadDebugStats reads the calling process's figures.
func ReadDebugStats() DebugStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := DebugStats{
		Time:            time.Now().UnixNano(),
		PID:             os.Getpid(),
		RSSBytes:        rss(),
		HeapInuseBytes:  ms.HeapInuse,
		HeapAllocBytes:  ms.HeapAlloc,
		HeapObjects:     ms.HeapObjects,
		StackInuseBytes: ms.StackInuse,
		GoSysBytes:      ms.Sys,
		Goroutines:      runtime.NumGoroutine(),
		NumGC:           ms.NumGC,
		GCPauseTotalNs:  ms.PauseTotalNs,
		TotalAllocBytes: ms.TotalAlloc,
		Mallocs:         ms.Mallocs,
		OpenFiles:       openFiles(),
		Threads:         threads(),
		GOMAXPROCS:      runtime.GOMAXPROCS(0),
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		st.CPUUserSeconds = float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6
		st.CPUSystemSeconds = float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6
	}
	return st
}

func (s *Server) debugCounts() *EdgeCounts {
	s.mu.Lock()
	c := &EdgeCounts{ID: s.cfg.ID, Conns: len(s.conns), Sessions: len(s.sessions), Users: len(s.users)}
	s.mu.Unlock()
	if s.peers != nil {
		s.peers.mu.Lock()
		c.PendingPeer = len(s.peers.pending)
		s.peers.mu.Unlock()
	}
	return c
}

// rss is the resident set size: the second field of /proc/self/statm, in
// pages. It is 0 where there is no /proc.
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

func openFiles() int {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return -1
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return -1
	}
	return len(names) - 1 // the directory being read
}

func threads() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("Threads:")); ok {
			n, err := strconv.Atoi(string(bytes.TrimSpace(v)))
			if err == nil {
				return n
			}
		}
	}
	return -1
}
