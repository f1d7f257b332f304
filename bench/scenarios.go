package bench

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/switchboard-io/switchboard/edge"
)

// The parent's side of each scenario: set up through the workers, start the
// timed phase at one instant for all, merge what they measured, and read
// the server before and after.

// startDelay is how far ahead a phase is scheduled, so that every worker
// has its command before it starts.
const startDelay = 500 * time.Millisecond

// connect: N idle logged-in connections; how fast they came, and what they
// cost the server each.
func (x *run) connect(ctx context.Context) error {
	before := x.stats(ctx)
	t0 := time.Now()
	x.profile(ctx, "setup", true, false)
	if err := x.startFleet(ctx); err != nil {
		return err
	}
	rep, hists, err := x.await(ctx, MsgReady, "setup")
	if err != nil {
		return err
	}
	x.absorb(rep)
	ok := rep.Counts[cLoggedIn]
	x.res.Counts["connections"] = ok
	x.res.Counts["failed"] = rep.Counts[cFailed]
	x.res.Figures["connections_per_s"] = round(perSecond(ok, t0.UnixNano(), rep.Last[cLoggedIn]), 1)
	x.res.Figures["setup_seconds"] = round(float64(rep.Last[cLoggedIn]-t0.UnixNano())/1e9, 3)
	x.res.Latency["connect+login"] = hists[hConnect].Summary()
	x.r.prog.show(fmt.Sprintf("%s: settling %s before measuring the server", x.spec.Scenario, x.spec.Settle))
	sleepUntil(ctx, time.Now().Add(x.spec.Settle))
	after := x.stats(ctx)
	held := ok - rep.Counts["lost"]
	x.res.Counts["held"] = held
	if before != nil && after != nil {
		x.res.Server = usage(before, after, held, "connection")
		if u := x.res.Server; u.EdgeConns != 0 && int64(u.EdgeConns) != held {
			x.note(fmt.Sprintf("the edges count %d connections, the load holds %d", u.EdgeConns, held))
		}
	}
	x.res.Load = x.loadUsage(serverCPU(x.res.Server), held, "connection")
	x.profile(ctx, "held", false, true)
	if x.spec.Hold > 0 {
		x.r.prog.show(fmt.Sprintf("%s: holding %s connections for %s", x.spec.Scenario, group(float64(held), 0), x.spec.Hold))
		sleepUntil(ctx, time.Now().Add(x.spec.Hold))
	}
	return nil
}

// login: N connections open, then every one logs in at the same instant.
func (x *run) login(ctx context.Context) error {
	if err := x.startFleet(ctx); err != nil {
		return err
	}
	rep, _, err := x.await(ctx, MsgReady, "setup")
	if err != nil {
		return err
	}
	x.absorb(rep)
	x.res.Counts["connections"] = rep.Counts[cDialed]
	x.res.Counts["connect_failed"] = rep.Counts[cFailed]
	before := x.stats(ctx)
	at := time.Now().Add(startDelay)
	x.profile(ctx, "storm", true, false)
	if err := x.fleet.broadcast(Command{Cmd: CmdStart, At: at.UnixNano()}); err != nil {
		return err
	}
	rep, hists, err := x.await(ctx, MsgDone, "run")
	if err != nil {
		return err
	}
	x.absorb(rep)
	ok := rep.Counts[cLoggedIn]
	x.res.Counts["logins"] = ok
	x.res.Counts["login_failed"] = rep.Counts[cFailed]
	x.res.Figures["logins_per_s"] = round(perSecond(ok, at.UnixNano(), rep.Last[cLoggedIn]), 1)
	x.res.Figures["storm_seconds"] = round(float64(rep.Last[cLoggedIn]-at.UnixNano())/1e9, 3)
	x.res.Latency["login"] = hists[hLogin].Summary()
	after := x.stats(ctx)
	if before != nil && after != nil {
		x.res.Server = usage(before, after, ok, "login")
	}
	x.res.Load = x.loadUsage(serverCPU(x.res.Server), ok, "login")
	x.profile(ctx, "after", false, true)
	return nil
}

// setupUsers opens and logs in (and for fanout, joins) every user.
func (x *run) setupUsers(ctx context.Context) (*Report, error) {
	if err := x.startFleet(ctx); err != nil {
		return nil, err
	}
	rep, hists, err := x.await(ctx, MsgReady, "setup")
	if err != nil {
		return nil, err
	}
	x.absorb(rep)
	x.res.Counts["users"] = rep.Counts[cLoggedIn]
	if f := rep.Counts[cFailed]; f > 0 {
		x.res.Counts["setup_failed"] = f
		x.note(fmt.Sprintf("%d of %d users could not be set up; the run goes on without them", f, x.spec.users()))
	}
	x.res.Figures["setup_seconds"] = round(time.Since(x.fleetAt).Seconds(), 3)
	if h := hists[hConnect]; h != nil {
		x.res.Latency["connect+login"] = h.Summary()
	}
	return rep, nil
}

// p2p: peer messages at a fixed rate among N users.
func (x *run) p2p(ctx context.Context) error {
	if _, err := x.setupUsers(ctx); err != nil {
		return err
	}
	rep, hists, before, err := x.ratePhase(ctx, x.spec.Rate, true)
	if err != nil {
		return err
	}
	d := x.spec.Duration.Seconds()
	sent, recv := rep.Counts[cSent], rep.Counts[cReceived]
	x.res.Counts["sent"] = sent
	x.res.Counts["received"] = recv
	x.res.Counts["send_ok"] = rep.Counts[cSendOK]
	x.res.Counts["send_error"] = rep.Counts[cSendErr]
	if l := rep.Counts[cLateFrame]; l > 0 {
		x.res.Counts["late"] = l
	}
	if l := rep.Counts["lost"]; l > 0 {
		x.res.Counts["connections_lost"] = l
	}
	x.res.Figures["target_per_s"] = x.spec.Rate
	x.res.Figures["sent_per_s"] = round(float64(sent)/d, 1)
	x.res.Figures["delivered_per_s"] = x.deliveredPerS(rep)
	x.res.Latency["send→receive"] = hists[hLatency].Summary()
	x.res.Latency["send→onMessageSendSuccess"] = hists[hAck].Summary()
	x.res.Latency["load send lag"] = hists[hLag].Summary()
	if sent != recv {
		x.note(fmt.Sprintf("%d messages sent, %d received", sent, recv))
	}
	if after := x.stats(ctx); before != nil && after != nil {
		x.res.Server = usage(before, after, recv, "message")
	}
	x.res.Load = x.loadUsage(serverCPU(x.res.Server), recv, "message")
	return nil
}

// ratePhase runs one timed phase at rate and returns what it measured, and
// the server's figures from before it.
func (x *run) ratePhase(ctx context.Context, rate float64, profile bool) (*Report, map[string]*Hist, []edge.DebugStats, error) {
	before := x.stats(ctx)
	at := time.Now().Add(startDelay)
	x.phaseAt = at
	if profile {
		x.profile(ctx, "run", true, false)
	}
	if err := x.fleet.broadcast(Command{Cmd: CmdStart, At: at.UnixNano(), Rate: rate, Duration: x.spec.Duration}); err != nil {
		return nil, nil, nil, err
	}
	rep, hists, err := x.await(ctx, MsgDone, "run")
	if err != nil {
		return nil, nil, nil, err
	}
	x.absorb(rep)
	return rep, hists, before, nil
}

// deliveredPerS is the messages received over the time from the phase's
// start to the last one, or its duration if that is longer: a server that
// falls behind keeps delivering after the senders stop, and that time
// counts.
func (x *run) deliveredPerS(rep *Report) float64 {
	d := x.spec.Duration.Seconds()
	if last := rep.Last[cReceived]; last > 0 {
		d = math.Max(d, float64(last-x.phaseAt.UnixNano())/1e9)
	}
	return round(float64(rep.Counts[cReceived])/d, 1)
}

// fanout: one channel of N members, publishers at a fixed rate; or a search
// for the highest rate whose delivery p99 stays within the target.
func (x *run) fanout(ctx context.Context) error {
	if err := x.probeChannels(ctx, true); err != nil {
		return err
	}
	x.prepareFanoutChannel(ctx)
	if _, err := x.setupUsers(ctx); err != nil {
		return err
	}
	t := x.fleet.totals()
	members := t[cJoined]
	x.res.Counts["members"] = members
	if members < 2 {
		return fmt.Errorf("only %d members joined the channel", members)
	}
	// A member's own messages do not come back to it.
	receivers := members - 1
	if x.spec.Outside {
		receivers = members
	}
	maxRate := float64(x.spec.Publishers * UserRate)
	step := func(rate float64, first bool) (Step, error) {
		rep, hists, before, err := x.ratePhase(ctx, rate, first)
		if err != nil {
			return Step{}, err
		}
		st := Step{
			Rate:          rate,
			Sent:          rep.Counts[cSent],
			Expected:      rep.Counts[cSent] * receivers,
			Received:      rep.Counts[cReceived],
			SendErrors:    rep.Counts[cSendErr],
			DeliveredPerS: x.deliveredPerS(rep),
			Latency:       hists[hLatency].Summary(),
		}
		st.Lost = rep.Counts["lost"]
		st.OK = st.Latency.P99 <= float64(x.spec.P99Target)/1e6 && st.Received >= st.Expected &&
			st.SendErrors == 0 && st.Lost == 0
		// The server's CPU over every step, beside the load's; its memory
		// after the first (a forced collection first).
		var u *ServerUsage
		if after := x.readStats(ctx, first); before != nil && after != nil {
			u = usage(before, after, st.Received, "delivery")
			if first {
				x.res.Server = u
			}
		}
		st.Load = x.loadUsage(serverCPU(u), st.Received, "delivery")
		x.res.Steps = append(x.res.Steps, st)
		if !st.OK {
			// Let what a failed step left queued drain before the next.
			sleepUntil(ctx, time.Now().Add(time.Second))
		}
		return st, nil
	}
	rate := math.Min(x.spec.Rate, maxRate)
	if !x.spec.Search {
		st, err := step(rate, true)
		if err != nil {
			return err
		}
		x.res.Figures["sent_per_s"] = round(float64(st.Sent)/x.spec.Duration.Seconds(), 1)
		x.res.Figures["delivered_per_s"] = st.DeliveredPerS
		x.res.Latency["delivery"] = st.Latency
		x.res.Load = st.Load
		if st.Received != st.Expected {
			x.note(fmt.Sprintf("%d deliveries expected (sent × receiving members), %d received", st.Expected, st.Received))
		}
		return nil
	}

	// The latency search: double until a step fails, then halve the
	// interval between the best good and the worst bad rate until they are
	// within 10 %. Below a few messages a step there is nothing left to
	// search: one message's fan-out alone misses the target.
	minRate := 5 / x.spec.Duration.Seconds()
	good, bad, highest := 0.0, math.Inf(1), 0.0
	var best *Step
	for n := 0; n < x.spec.Steps; n++ {
		st, err := step(rate, n == 0)
		if err != nil {
			return err
		}
		highest = math.Max(highest, rate)
		if st.Lost > 0 {
			// The edge closed members whose queues overflowed: every step
			// after this one would measure a smaller channel.
			x.note(fmt.Sprintf("at %g msg/s the edge closed %d members as slow consumers; the search stopped there", rate, st.Lost))
			break
		}
		if st.OK {
			good = math.Max(good, rate)
			if best == nil || st.DeliveredPerS > best.DeliveredPerS {
				best = &st
			}
		} else {
			bad = math.Min(bad, rate)
		}
		if good > 0 && bad/good < 1.1 {
			break
		}
		next := rate * 2
		switch {
		case !math.IsInf(bad, 1) && good > 0:
			next = (good + bad) / 2
		case !math.IsInf(bad, 1):
			next = bad / 4
		}
		if next < minRate {
			x.note(fmt.Sprintf("even %g msg/s missed the target (p99 %s ms): one message's fan-out to %d members takes longer than %s", rate, ms(st.Latency.P99), members, x.spec.P99Target))
			break
		}
		if next > maxRate {
			if rate >= maxRate {
				x.note(fmt.Sprintf("the search stopped at %g msg/s: %d publishers may send at most %d msg/s each (-publishers)", maxRate, x.spec.Publishers, UserRate))
				break
			}
			next = maxRate
		}
		rate = roundSig(next, 2)
		x.r.prog.show(fmt.Sprintf("%s: next step %g msg/s", x.spec.Scenario, rate))
	}

	lost := func() bool { return len(x.res.Steps) > 0 && x.res.Steps[len(x.res.Steps)-1].Lost > 0 }
	// The saturation search: from twice the highest rate tried, double
	// while the deliveries keep up with what is offered (90 %) and no
	// connection is lost; the most delivered a second by a step that lost
	// nothing is the saturated throughput.
	for r, n := roundSig(2*highest, 2), 0; n < 4 && r <= maxRate && !lost(); r, n = roundSig(2*r, 2), n+1 {
		x.r.prog.show(fmt.Sprintf("%s: saturation step %g msg/s", x.spec.Scenario, r))
		st, err := step(r, false)
		if err != nil {
			return err
		}
		x.res.Steps[len(x.res.Steps)-1].Saturation = true
		offered := r * float64(receivers)
		if st.DeliveredPerS < 0.9*offered || st.Lost > 0 || st.Received < st.Expected {
			break
		}
	}
	// A step that lost connections or deliveries overloaded the server past
	// what it sustains; it does not count.
	saturated := 0.0
	for _, st := range x.res.Steps {
		if st.Lost == 0 && st.Received >= st.Expected {
			saturated = math.Max(saturated, st.DeliveredPerS)
		}
	}
	x.res.Figures["saturated_delivered_per_s"] = saturated
	x.res.Load = sumLoad(x.res.Steps)
	if best != nil {
		x.res.Figures["best_ok_rate_per_s"] = best.Rate
		x.res.Figures["best_ok_delivered_per_s"] = best.DeliveredPerS
		x.res.Latency["delivery at best rate"] = best.Latency
	} else {
		x.note("no rate kept p99 within the target and delivered everything")
	}
	return nil
}

// sumLoad is the load's and the server's CPU over every step.
func sumLoad(steps []Step) *LoadUsage {
	var sum *LoadUsage
	for _, st := range steps {
		l := st.Load
		if l == nil {
			continue
		}
		if sum == nil {
			sum = &LoadUsage{Procs: l.Procs, Cores: l.Cores, PerWhat: l.PerWhat}
		}
		sum.CPUSeconds += l.CPUSeconds
		sum.Per += l.Per
		if l.ServerCPUSeconds < 0 || sum.ServerCPUSeconds < 0 {
			sum.ServerCPUSeconds = -1
		} else {
			sum.ServerCPUSeconds += l.ServerCPUSeconds
		}
	}
	if sum == nil {
		return nil
	}
	sum.CPUSeconds, sum.ServerCPUSeconds = round(sum.CPUSeconds, 3), round(sum.ServerCPUSeconds, 3)
	if sum.ServerCPUSeconds > 0 {
		sum.ShareOfServer = round(sum.CPUSeconds/sum.ServerCPUSeconds, 3)
	}
	if sum.Per > 0 {
		sum.USPer = round(sum.CPUSeconds*1e6/float64(sum.Per), 2)
	}
	return sum
}

// roundSig rounds v to digits significant digits.
func roundSig(v float64, digits int) float64 {
	if v <= 0 {
		return v
	}
	p := math.Pow(10, float64(digits)-math.Ceil(math.Log10(v)))
	return math.Round(v*p) / p
}

// join: N logged-in users join one channel at the same instant; every
// member hears of every other.
func (x *run) join(ctx context.Context) error {
	if err := x.probeChannels(ctx, false); err != nil {
		return err
	}
	if _, err := x.setupUsers(ctx); err != nil {
		return err
	}
	before := x.stats(ctx)
	at := time.Now().Add(startDelay)
	x.profile(ctx, "storm", true, false)
	if err := x.fleet.broadcast(Command{Cmd: CmdStart, At: at.UnixNano()}); err != nil {
		return err
	}
	rep, hists, err := x.await(ctx, MsgDone, "run")
	if err != nil {
		return err
	}
	x.absorb(rep)
	joined, settled := rep.Counts[cJoined], rep.Counts[cSettled]
	x.res.Counts["joined"] = joined
	x.res.Counts["settled"] = settled
	x.res.Counts["join_failed"] = rep.Counts[cFailed]
	x.res.Counts["member_notices"] = rep.Counts[cEvents]
	x.res.Counts["user_list_max"] = rep.Counts[cListMax]
	x.res.Figures["joins_per_s"] = round(perSecond(joined, at.UnixNano(), rep.Last[cJoined]), 1)
	// The views have settled when the last member's view last changed.
	x.res.Figures["settle_seconds"] = round(float64(rep.Last[cNotice]-at.UnixNano())/1e9, 3)
	if users := x.res.Counts["users"]; settled < users {
		x.note(fmt.Sprintf("%d of %d members saw every member", settled, users))
		if u := rep.Counts["unsettled"]; u > 0 {
			x.note(fmt.Sprintf("the %d others each miss %.1f members on average", u, float64(rep.Counts["missing"])/float64(u)))
		}
		if l := rep.Counts[cListMax]; l < users {
			x.note(fmt.Sprintf("onChannelUserList names at most %d members: a member that joins after more than that hears of the earlier ones only through the list, so its view lacks the earliest for good; settle_seconds is when the last view changed", l))
		}
	}
	x.res.Latency["start→onChannelJoined"] = hists[hJoined].Summary()
	x.res.Latency["start→complete member view"] = hists[hSettled].Summary()
	if after := x.stats(ctx); before != nil && after != nil {
		x.res.Server = usage(before, after, joined, "join")
	}
	x.res.Load = x.loadUsage(serverCPU(x.res.Server), joined, "join")
	return nil
}
