package bench

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/switchboard-io/switchboard/edge"
)

// Result is what one scenario run measured, for people (WriteTable) and
// machines (its JSON).
type Result struct {
	Scenario string `json:"scenario"`
	Spec     Spec   `json:"spec"`
	Setup    Setup  `json:"setup"`
	// Skipped says why the scenario did not run (the server cannot do it
	// yet); Error why it stopped.
	Skipped string  `json:"skipped,omitempty"`
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds"`

	Counts map[string]int64 `json:"counts,omitempty"`
	// Figures are derived numbers, their unit in their name (_per_s,
	// _seconds, _us_per_…).
	Figures map[string]float64 `json:"figures,omitempty"`
	Latency map[string]Summary `json:"latency_ms,omitempty"`
	Server  *ServerUsage       `json:"server,omitempty"`
	// Load is the load processes' own CPU over the measured phase (for a
	// fanout search, over every step), beside the server's.
	Load     *LoadUsage       `json:"load,omitempty"`
	Steps    []Step           `json:"steps,omitempty"`
	Errors   map[string]int64 `json:"errors,omitempty"`
	Machine  *Machine         `json:"machine,omitempty"`
	Notes    []string         `json:"notes,omitempty"`
	Profiles []string         `json:"profiles,omitempty"`
	SlowLogs []string         `json:"slowLogs,omitempty"`

	// Run is this run's place among Runs repetitions of the same spec
	// (-runs); the last of them carries the Agreement of all.
	Run       int        `json:"run,omitempty"`
	Runs      int        `json:"runs,omitempty"`
	Agreement *Agreement `json:"agreement,omitempty"`
}

// LoadUsage is the CPU time (user + system) the load processes spent on a
// phase, from their getrusage as the server's comes from its own, and what
// share of the server's CPU over the same phase that is. A load that costs
// a good share of what the server does competes with it for the cores and
// adds its own latency to what it measures.
type LoadUsage struct {
	Procs      int     `json:"procs"`           // 0: the tool's own process
	Cores      int     `json:"cores,omitempty"` // GOMAXPROCS of each; 0: Go's default
	CPUSeconds float64 `json:"cpuSeconds"`
	// ServerCPUSeconds is -1 when the server was not measured (no -debug).
	ServerCPUSeconds float64 `json:"serverCpuSeconds"`
	ShareOfServer    float64 `json:"shareOfServer,omitempty"` // CPUSeconds / ServerCPUSeconds
	// USPer is the load's CPU in µs per operation of the kind PerWhat
	// (delivery, message, connection, login, join), Per of them.
	Per     int64   `json:"per,omitempty"`
	PerWhat string  `json:"perWhat,omitempty"`
	USPer   float64 `json:"usPer,omitempty"`
}

// Setup is how the run was arranged.
type Setup struct {
	URLs      []string `json:"urls"`
	Edges     int      `json:"edges"`
	Started   bool     `json:"started"` // the tool started the server
	ServerBin string   `json:"serverBin,omitempty"`
	LoadProcs int      `json:"loadProcs"` // 0: in the tool's own process
	// LoadCores is the GOMAXPROCS the tool gave every load process (0: Go's
	// default, or the tool's environment's); LoadGOMAXPROCS is what each
	// load worker's runtime said it ran with, in the tool's process too.
	LoadCores      int      `json:"loadCores,omitempty"`
	LoadGOMAXPROCS []int    `json:"loadGomaxprocs,omitempty"`
	SrcAddrs       []string `json:"srcAddrs,omitempty"`
	// Config is the server configuration measured.
	Config Config `json:"config"`
}

// Machine is how busy the whole machine was during the run: the server, the
// load, and anything else running on it.
type Machine struct {
	CPUs int `json:"cpus"`
	// LoadAvgBefore is the one-minute load average when the run began;
	// BusyBefore the share of CPU time that was busy in the second before
	// it, with -idle (-1 without).
	LoadAvgBefore float64 `json:"loadAvgBefore"`
	BusyBefore    float64 `json:"busyBefore"`
	// BusyPercent is the share of all CPUs' time that was busy during the
	// run.
	BusyPercent float64 `json:"busyPercent"`
}

// Step is one rate of a fanout run.
type Step struct {
	Rate          float64 `json:"rate"`
	Sent          int64   `json:"sent"`
	Expected      int64   `json:"expected"` // sent × receiving members
	Received      int64   `json:"received"`
	SendErrors    int64   `json:"sendErrors"`
	DeliveredPerS float64 `json:"delivered_per_s"`
	Latency       Summary `json:"latency_ms"`
	Lost          int64   `json:"lost,omitempty"` // connections the server closed
	// Load is the load's CPU on this step beside the server's.
	Load *LoadUsage `json:"load,omitempty"`
	OK   bool       `json:"ok"` // p99 within the target and nothing lost
	// Saturation marks the steps past the latency search that look for the
	// most the server delivers.
	Saturation bool `json:"saturation,omitempty"`
}

// ServerUsage compares two readings of every server process's
// /debug/stats.
type ServerUsage struct {
	// Per is how many of PerWhat the difference is divided by (the
	// connections the load held at the second reading, logins, …).
	Per     int64  `json:"per,omitempty"`
	PerWhat string `json:"perWhat,omitempty"`

	RSSBytes            int64   `json:"rssBytes"`
	RSSDeltaBytes       int64   `json:"rssDeltaBytes"`
	HeapInuseBytes      int64   `json:"heapInuseBytes"`
	HeapInuseDeltaBytes int64   `json:"heapInuseDeltaBytes"`
	HeapLiveBytes       int64   `json:"heapLiveBytes"`
	HeapLiveDeltaBytes  int64   `json:"heapLiveDeltaBytes"`
	Goroutines          int     `json:"goroutines"`
	GoroutinesDelta     int     `json:"goroutinesDelta"`
	CPUSeconds          float64 `json:"cpuSeconds"` // user + system between the readings
	GCs                 int     `json:"gcs"`
	// EdgeConns and EdgeSessions are what the edges counted at the second
	// reading.
	EdgeConns    int `json:"edgeConns"`
	EdgeSessions int `json:"edgeSessions"`

	Before []edge.DebugStats `json:"before"`
	After  []edge.DebugStats `json:"after"`
}

func usage(before, after []edge.DebugStats, per int64, what string) *ServerUsage {
	if len(before) != len(after) || len(after) == 0 {
		return nil
	}
	u := &ServerUsage{Per: per, PerWhat: what, Before: before, After: after}
	for i := range after {
		a, b := after[i], before[i]
		u.RSSBytes += int64(a.RSSBytes)
		u.RSSDeltaBytes += int64(a.RSSBytes) - int64(b.RSSBytes)
		u.HeapInuseBytes += int64(a.HeapInuseBytes)
		u.HeapInuseDeltaBytes += int64(a.HeapInuseBytes) - int64(b.HeapInuseBytes)
		u.HeapLiveBytes += int64(a.HeapAllocBytes)
		u.HeapLiveDeltaBytes += int64(a.HeapAllocBytes) - int64(b.HeapAllocBytes)
		u.Goroutines += a.Goroutines
		u.GoroutinesDelta += a.Goroutines - b.Goroutines
		u.CPUSeconds += a.CPUUserSeconds + a.CPUSystemSeconds - b.CPUUserSeconds - b.CPUSystemSeconds
		u.GCs += int(a.NumGC) - int(b.NumGC)
		if a.Edge != nil {
			u.EdgeConns += a.Edge.Conns
			u.EdgeSessions += a.Edge.Sessions
		}
	}
	return u
}

// WriteTable prints results for a person.
func WriteTable(w io.Writer, results []*Result) {
	for _, r := range results {
		writeOne(w, r)
		fmt.Fprintln(w)
	}
}

func writeOne(w io.Writer, r *Result) {
	head := fmt.Sprintf("== %s  %s", r.Scenario, describeSpec(r.Spec))
	if r.Runs > 1 {
		head += fmt.Sprintf("  run %d of %d", r.Run, r.Runs)
	}
	fmt.Fprintf(w, "%s  (%.1fs)\n", head, r.Seconds)
	s := r.Setup
	where := "a running server"
	if s.Started {
		where = "a server the tool started"
	}
	fmt.Fprintf(w, "   %d edge(s) of %s, %s, %d source address(es)\n", s.Edges, where, describeProcs(s.LoadProcs, s.LoadCores), max(1, len(s.SrcAddrs)))
	fmt.Fprintf(w, "   configuration: %s\n", s.Config)
	if r.Skipped != "" {
		fmt.Fprintf(w, "   SKIPPED: %s\n", r.Skipped)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "   ERROR: %s\n", r.Error)
	}
	row := func(label, value string) { fmt.Fprintf(w, "   %-40s %s\n", label, value) }
	for _, k := range sortedKeys(r.Counts) {
		row(k, group(float64(r.Counts[k]), 0))
	}
	for _, k := range sortedKeys(r.Figures) {
		row(k, formatFigure(k, r.Figures[k]))
	}
	for _, k := range sortedKeys(r.Latency) {
		row(k+" latency (ms)", formatSummary(r.Latency[k]))
	}
	row("load CPU", loadText(r.Load))
	if len(r.Steps) > 0 {
		fmt.Fprintf(w, "   %-10s %10s %12s %12s %14s  %-34s  %s\n", "rate msg/s", "sent", "expected", "received", "delivered/s", "latency ms p50 / p99 / p99.9 / max", "load CPU (of the server's)")
		for _, st := range r.Steps {
			mark := " "
			switch {
			case st.OK:
				mark = "*"
			case st.Saturation:
				mark = "s"
			}
			l := st.Latency
			lat := fmt.Sprintf("%s / %s / %s / %s", ms(l.P50), ms(l.P99), ms(l.P999), ms(l.Max))
			fmt.Fprintf(w, "  %s%-10s %10s %12s %12s %14s  %-34s  %s\n", mark, rateText(st.Rate),
				group(float64(st.Sent), 0), group(float64(st.Expected), 0), group(float64(st.Received), 0),
				group(st.DeliveredPerS, 0), lat, loadShort(st.Load))
		}
		fmt.Fprintf(w, "   (* p99 within %s and nothing lost; s: a saturation step)\n", r.Spec.P99Target)
	}
	if u := r.Server; u != nil {
		row("server RSS", fmt.Sprintf("%s (%s)%s", bytesText(u.RSSBytes), signedBytes(u.RSSDeltaBytes), perText(u, float64(u.RSSDeltaBytes), true)))
		row("server Go heap in use", fmt.Sprintf("%s (%s)%s", bytesText(u.HeapInuseBytes), signedBytes(u.HeapInuseDeltaBytes), perText(u, float64(u.HeapInuseDeltaBytes), true)))
		row("server Go heap live", fmt.Sprintf("%s (%s)%s", bytesText(u.HeapLiveBytes), signedBytes(u.HeapLiveDeltaBytes), perText(u, float64(u.HeapLiveDeltaBytes), true)))
		row("server goroutines", fmt.Sprintf("%d (%+d)%s", u.Goroutines, u.GoroutinesDelta, perText(u, float64(u.GoroutinesDelta), false)))
		row("server CPU", fmt.Sprintf("%.2f s%s", u.CPUSeconds, perCPU(u)))
		if u.EdgeConns > 0 || u.EdgeSessions > 0 {
			row("edges count", fmt.Sprintf("%d connections, %d sessions", u.EdgeConns, u.EdgeSessions))
		}
	}
	for _, k := range sortedKeys(r.Errors) {
		row("error", fmt.Sprintf("%s × %s", group(float64(r.Errors[k]), 0), k))
	}
	if m := r.Machine; m != nil {
		before := fmt.Sprintf("load average %.2f before it", m.LoadAvgBefore)
		if m.BusyBefore >= 0 {
			before = fmt.Sprintf("%.0f%% busy in the second before it", m.BusyBefore)
		}
		row("machine", fmt.Sprintf("%d CPUs %.0f%% busy during the run, %s", m.CPUs, m.BusyPercent, before))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "   note: %s\n", n)
	}
	for _, p := range r.Profiles {
		fmt.Fprintf(w, "   profile: %s\n", p)
	}
	for _, p := range r.SlowLogs {
		fmt.Fprintf(w, "   slow deliveries: %s\n", p)
	}
	if r.Agreement != nil {
		writeAgreement(w, r.Agreement)
	}
}

// loadText is the load's CPU beside the server's, for a person.
func loadText(l *LoadUsage) string {
	if l == nil {
		return "not measured"
	}
	t := fmt.Sprintf("%.2f s user+sys in %s", l.CPUSeconds, describeProcs(l.Procs, l.Cores))
	if l.ServerCPUSeconds >= 0 {
		t += fmt.Sprintf(", %s of the server's %.2f s", percent(l.ShareOfServer), l.ServerCPUSeconds)
	} else {
		t += ", beside a server whose CPU was not measured"
	}
	if l.Per > 0 {
		t += fmt.Sprintf("; %.2f µs per %s", l.USPer, l.PerWhat)
	}
	return t
}

func loadShort(l *LoadUsage) string {
	switch {
	case l == nil:
		return "-"
	case l.ServerCPUSeconds < 0:
		return fmt.Sprintf("%.2f s", l.CPUSeconds)
	}
	return fmt.Sprintf("%.2f s (%s)", l.CPUSeconds, percent(l.ShareOfServer))
}

func percent(share float64) string { return fmt.Sprintf("%.0f %%", share*100) }

func rateText(r float64) string {
	if r < 10 {
		return fmt.Sprintf("%g", r)
	}
	return group(r, 0)
}

func describeSpec(s Spec) string {
	parts := []string{}
	switch s.Scenario {
	case Connect, Login:
		parts = append(parts, "n="+group(float64(s.N), 0))
	case P2P:
		parts = append(parts, "users="+group(float64(s.N), 0), "rate="+group(s.Rate, 0)+"/s", "for "+s.Duration.String())
	case Fanout:
		parts = append(parts, "k="+group(float64(s.N), 0), "publishers="+group(float64(s.Publishers), 0))
		if s.Outside {
			parts = append(parts, "(outside the channel)")
		}
		if s.Search {
			parts = append(parts, "search from "+rateText(s.Rate)+" msg/s", "p99 ≤ "+s.P99Target.String(), s.Duration.String()+" a step")
		} else {
			parts = append(parts, "rate="+group(s.Rate, 0)+" msg/s", "for "+s.Duration.String())
		}
	case Join:
		parts = append(parts, "k="+group(float64(s.N), 0))
	}
	return strings.Join(parts, " ")
}

func describeProcs(n, cores int) string {
	switch {
	case n == 0:
		return "load in the tool's process"
	case cores == 1:
		return fmt.Sprintf("%d load process(es) of 1 core", n)
	case cores > 1:
		return fmt.Sprintf("%d load process(es) of %d cores", n, cores)
	}
	return fmt.Sprintf("%d load process(es)", n)
}

func formatFigure(k string, v float64) string {
	switch {
	case strings.HasSuffix(k, "_per_s"):
		return group(v, 0) + " /s"
	case strings.HasSuffix(k, "_seconds"):
		return fmt.Sprintf("%.3f s", v)
	case strings.Contains(k, "_us_per_"):
		return fmt.Sprintf("%.1f µs", v)
	}
	return group(v, 2)
}

func formatSummary(s Summary) string {
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (n=%s)",
		ms(s.P50), ms(s.P90), ms(s.P99), ms(s.P999), ms(s.Max), group(float64(s.Count), 0))
}

func ms(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// perText divides a state (memory, goroutines) by what holds it.
func perText(u *ServerUsage, delta float64, bytes bool) string {
	if u.Per <= 0 {
		return ""
	}
	v := delta / float64(u.Per)
	if !memoryPer(u.PerWhat) {
		return ""
	}
	if bytes {
		return fmt.Sprintf(", %s per %s", bytesText(int64(v)), u.PerWhat)
	}
	return fmt.Sprintf(", %.2f per %s", v, u.PerWhat)
}

// memoryPer reports whether memory divided by what means something: a
// connection, login or join holds memory; a message that has been
// delivered does not.
func memoryPer(what string) bool {
	return what == "connection" || what == "login" || what == "join"
}

func perCPU(u *ServerUsage) string {
	if u.Per <= 0 {
		return ""
	}
	return fmt.Sprintf(", %.1f µs per %s", u.CPUSeconds*1e6/float64(u.Per), u.PerWhat)
}

// bytesText writes a byte count in KB (1,000 bytes) or MB.
func bytesText(b int64) string {
	a := math.Abs(float64(b))
	switch {
	case a >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(b)/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.1f KB", float64(b)/1e3)
	}
	return fmt.Sprintf("%d B", b)
}

func signedBytes(b int64) string {
	if b >= 0 {
		return "+" + bytesText(b)
	}
	return bytesText(b)
}

// group writes v with thousands separators and dec decimals.
func group(v float64, dec int) string {
	s := fmt.Sprintf("%.*f", dec, v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, ch := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}
