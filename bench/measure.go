package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/switchboard-io/switchboard/edge"
)

// absorb copies a report's errors and notes into the result, and keeps the
// load processes' CPU time since the previous report (phaseCPU): the CPU
// the load spent on the phase the report ends.
func (x *run) absorb(rep *Report) {
	x.phaseCPU = -1
	if cpu, ok := rep.Counts[cCPU]; ok {
		delete(rep.Counts, cCPU)
		x.phaseCPU = float64(cpu-x.loadCPU) / 1e6
		x.loadCPU = cpu
	}
	if len(rep.Errors) > 0 && x.res.Errors == nil {
		x.res.Errors = map[string]int64{}
	}
	for k, v := range rep.Errors {
		x.res.Errors[k] += v
	}
	for _, n := range rep.Notes {
		x.note(n)
	}
	if len(rep.GOMAXPROCS) > 0 {
		x.res.Setup.LoadGOMAXPROCS = rep.GOMAXPROCS
	}
}

// loadUsage puts the load's CPU on the phase absorbed last beside the
// server's over the same phase (serverCPU < 0: not measured), and divides
// it by per operations of the kind what.
func (x *run) loadUsage(serverCPU float64, per int64, what string) *LoadUsage {
	if x.phaseCPU < 0 {
		return nil
	}
	u := &LoadUsage{Procs: x.res.Setup.LoadProcs, Cores: x.res.Setup.LoadCores, CPUSeconds: round(x.phaseCPU, 3), ServerCPUSeconds: -1, Per: per, PerWhat: what}
	if serverCPU >= 0 {
		u.ServerCPUSeconds = round(serverCPU, 3)
		if serverCPU > 0 {
			u.ShareOfServer = round(x.phaseCPU/serverCPU, 3)
		}
	}
	if per > 0 {
		u.USPer = round(x.phaseCPU*1e6/float64(per), 2)
	}
	if u.Procs == 0 {
		x.note("the load ran in the tool's own process: its CPU figure is the whole process's, and includes the server when the server runs in it too")
	}
	return u
}

// serverCPU is the server's CPU time in u, or -1 when it was not measured.
func serverCPU(u *ServerUsage) float64 {
	if u == nil {
		return -1
	}
	return u.CPUSeconds
}

// stats reads every server process's figures, after a forced collection so
// that the heap figures are live memory; nil when there is no debug endpoint
// or it fails (noted).
func (x *run) stats(ctx context.Context) []edge.DebugStats { return x.readStats(ctx, true) }

func (x *run) readStats(ctx context.Context, gc bool) []edge.DebugStats {
	if len(x.debug) == 0 {
		return nil
	}
	// A server process accepts on its WebSocket address as soon as it has
	// bound it, before its debug listener is up: on a busy machine the
	// first read may come too early, so it is tried again for a while.
	deadline := time.Now().Add(statsPatience)
	for {
		st, err := readStats(ctx, x.debug, gc)
		if err == nil {
			return st
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			x.note("reading the server's /debug/stats failed: " + err.Error())
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// statsPatience bounds how long stats tries a server's debug endpoint.
const statsPatience = 15 * time.Second

// profile saves a CPU profile of every server process, in the background,
// and heap and goroutine profiles when heap.
func (x *run) profile(ctx context.Context, label string, cpu, heap bool) {
	dir := x.r.opt.ProfileDir
	if dir == "" || len(x.debug) == 0 {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		x.note("profiles: " + err.Error())
		return
	}
	for i, base := range x.debug {
		name := fmt.Sprintf("%s-n%d-%s-proc%d", x.spec.Scenario, x.spec.N, label, i)
		if cpu {
			file := filepath.Join(dir, name+"-cpu.pb.gz")
			path := fmt.Sprintf("/debug/pprof/profile?seconds=%d", x.r.opt.ProfileSeconds)
			x.pwg.Add(1)
			go func() {
				defer x.pwg.Done()
				x.saved(file, fetchProfile(ctx, base, path, file))
			}()
		}
		if heap {
			file := filepath.Join(dir, name+"-heap.pb.gz")
			x.saved(file, fetchProfile(ctx, base, "/debug/pprof/heap?gc=1", file))
			file = filepath.Join(dir, name+"-goroutine.pb.gz")
			x.saved(file, fetchProfile(ctx, base, "/debug/pprof/goroutine", file))
		}
	}
}

func (x *run) saved(file string, err error) {
	x.pmu.Lock()
	defer x.pmu.Unlock()
	if err != nil {
		x.note(fmt.Sprintf("profile %s: %v", file, err))
		return
	}
	x.res.Profiles = append(x.res.Profiles, file)
}
