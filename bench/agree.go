package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
)

// AgreeWithin is how far repeated runs' headline figures may spread (the
// largest over the smallest, less one) for them to agree: a figure goes
// into docs/benchmarks.md only when three runs agree.
const AgreeWithin = 0.15

// Agreement says whether repeated runs of one spec agree on its headline
// figure.
type Agreement struct {
	// Figure names the headline figure compared (see Headline) and Unit
	// its unit; Values holds it for every run, in order.
	Figure string    `json:"figure"`
	Unit   string    `json:"unit"`
	Values []float64 `json:"values"`
	// LoadShares is the load's CPU as a share of the server's in every run
	// (0 where it was not measured).
	LoadShares []float64 `json:"loadShares"`
	// Spread is max/min − 1 of Values (-1 when Why says they cannot be
	// compared); Agree is Spread ≤ Within.
	Spread float64 `json:"spread"`
	Within float64 `json:"within"`
	Agree  bool    `json:"agree"`
	// Why says why runs cannot agree when a figure is missing.
	Why string `json:"why,omitempty"`
}

// Headline is the figure of a result that repeated runs must agree on: the
// rate of a connect, login or join storm; the send→receive p99 of p2p; the
// delivery p99 of a fanout at a fixed rate, and the most deliveries a
// second within the p99 target of a fanout search (the saturated
// throughput when no rate met it). ok is false when the run has none.
func Headline(r *Result) (name, unit string, v float64, ok bool) {
	fig := func(k string) (string, string, float64, bool) {
		v, ok := r.Figures[k]
		return k, "/s", v, ok && v > 0
	}
	lat := func(k string) (string, string, float64, bool) {
		s, ok := r.Latency[k]
		return k + " p99", "ms", s.P99, ok && s.Count > 0 && s.P99 > 0
	}
	switch r.Scenario {
	case Connect:
		return fig("connections_per_s")
	case Login:
		return fig("logins_per_s")
	case Join:
		return fig("joins_per_s")
	case P2P:
		return lat("send→receive")
	case Fanout:
		if !r.Spec.Search {
			return lat("delivery")
		}
		if _, ok := r.Figures["best_ok_delivered_per_s"]; ok {
			return fig("best_ok_delivered_per_s")
		}
		return fig("saturated_delivered_per_s")
	}
	return "", "", 0, false
}

// Agree compares the headline figures of repeated runs of one spec.
func Agree(runs []*Result) *Agreement {
	a := &Agreement{Within: AgreeWithin}
	var why []string
	for i, r := range runs {
		name, unit, v, ok := Headline(r)
		switch {
		case r.Error != "":
			why = append(why, fmt.Sprintf("run %d failed", i+1))
		case r.Skipped != "":
			why = append(why, fmt.Sprintf("run %d was skipped", i+1))
		case !ok:
			why = append(why, fmt.Sprintf("run %d has no headline figure", i+1))
		case a.Figure != "" && name != a.Figure:
			why = append(why, fmt.Sprintf("run %d's headline is %s, not %s", i+1, name, a.Figure))
		}
		if a.Figure == "" && ok {
			a.Figure, a.Unit = name, unit
		}
		a.Values = append(a.Values, v)
		share := 0.0
		if r.Load != nil {
			share = r.Load.ShareOfServer
		}
		a.LoadShares = append(a.LoadShares, share)
	}
	if len(why) > 0 {
		a.Why = strings.Join(why, "; ")
		a.Spread = -1
		return a
	}
	lo, hi := math.Inf(1), 0.0
	for _, v := range a.Values {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	a.Spread = round(hi/lo-1, 4)
	a.Agree = a.Spread <= a.Within
	return a
}

// Repeat runs spec n times, one after another, and hands each result to
// each as it comes; the last carries the agreement of all of them.
func (r *Runner) Repeat(ctx context.Context, spec Spec, n int, each func(*Result)) []*Result {
	var out []*Result
	for i := 0; i < max(1, n); i++ {
		if i > 0 && ctx.Err() != nil {
			break
		}
		res := r.Run(ctx, spec)
		out = append(out, res)
		if n > 1 {
			res.Run, res.Runs = i+1, n
			if i == n-1 {
				res.Agreement = Agree(out)
			}
		}
		if each != nil {
			each(res)
		}
	}
	return out
}

// writeAgreement prints whether the runs agree.
func writeAgreement(w io.Writer, a *Agreement) {
	vals := make([]string, len(a.Values))
	for i, v := range a.Values {
		vals[i] = figureText(v, a.Unit)
		if s := a.LoadShares[i]; s > 0 {
			vals[i] += fmt.Sprintf(" (load %s)", percent(s))
		}
	}
	fmt.Fprintf(w, "   agreement of %d runs on %s: %s\n", len(a.Values), a.Figure, strings.Join(vals, " · "))
	switch {
	case a.Why != "":
		fmt.Fprintf(w, "   DO NOT AGREE: %s\n", a.Why)
	case a.Agree:
		fmt.Fprintf(w, "   agree: spread %.1f %% (max/min − 1) within %.0f %%\n", a.Spread*100, a.Within*100)
	default:
		fmt.Fprintf(w, "   DO NOT AGREE: spread %.1f %% (max/min − 1) over %.0f %%\n", a.Spread*100, a.Within*100)
	}
}

func figureText(v float64, unit string) string {
	if unit == "ms" {
		return ms(v) + " ms"
	}
	return group(v, 0) + " " + unit
}
