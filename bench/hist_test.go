package bench

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

// reference is the value of rank max(1, round(q·n)) of sorted values, the
// rank Summary reads.
func reference(sorted []int64, q float64) int64 {
	r := max(1, int(q*float64(len(sorted))+0.5))
	return sorted[r-1]
}

// within checks a histogram's reading against the exact value: never below
// it, at most one bucket (under 0.1 %) above it.
func within(t *testing.T, what string, gotMS float64, exactUS int64) {
	t.Helper()
	got := gotMS * 1000
	if got < float64(exactUS)-1e-6 || got > float64(exactUS)*(1+1.0/1024)+1e-6 {
		t.Errorf("%s = %.3f µs, exact %d µs", what, got, exactUS)
	}
}

func TestHist_PercentilesMatchASortedReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		draw func() int64
	}{
		{"sub-millisecond", func() int64 { return 1 + rng.Int64N(2000) }},
		{"log-uniform 1 µs to 60 s", func() int64 { return int64(math.Exp(rng.Float64() * math.Log(60e6))) }},
		{"a tail", func() int64 {
			if rng.IntN(100) == 0 {
				return 50_000 + rng.Int64N(5_000_000)
			}
			return 200 + rng.Int64N(800)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHist()
			vals := make([]int64, 20000)
			for i := range vals {
				vals[i] = max(1, tc.draw())
				h.Record(time.Duration(vals[i]) * time.Microsecond)
			}
			slices.Sort(vals)
			s := h.Summary()
			if s.Count != int64(len(vals)) {
				t.Fatalf("count %d, want %d", s.Count, len(vals))
			}
			within(t, "p50", s.P50, reference(vals, 0.50))
			within(t, "p90", s.P90, reference(vals, 0.90))
			within(t, "p99", s.P99, reference(vals, 0.99))
			within(t, "p99.9", s.P999, reference(vals, 0.999))
			within(t, "max", s.Max, vals[len(vals)-1])
			var sum float64
			for _, v := range vals {
				sum += float64(v)
			}
			if mean := sum / float64(len(vals)) / 1000; math.Abs(s.Mean-mean) > mean/1000 {
				t.Errorf("mean %.4f ms, exact %.4f ms", s.Mean, mean)
			}
		})
	}
}

func TestHist_ClampsToItsRange(t *testing.T) {
	h := NewHist()
	h.Record(0)
	h.Record(-time.Second)
	h.Record(time.Hour)
	s := h.Summary()
	if s.Count != 3 || s.P50 != 0.001 {
		t.Errorf("summary %+v: want 3 values, the low ones at 1 µs", s)
	}
	within(t, "max", s.Max, histMax)
	if i := histIndex(histMax); i >= histChunks*chunkSize {
		t.Fatalf("index of the largest value %d is out of the %d buckets", i, histChunks*chunkSize)
	}
}

func TestHist_EveryBucketHoldsItsOwnValues(t *testing.T) {
	// Walk the buckets: each starts where the one before ended.
	next := int64(histMin)
	for i := histMin; i <= histIndex(histMax); i++ {
		lo, size := bucketRange(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
		}
		if histIndex(lo) != i || lo+size-1 < histMax && histIndex(lo+size-1) != i {
			t.Fatalf("bucket %d [%d, %d] does not index back to itself", i, lo, lo+size-1)
		}
		next = lo + size
	}
}

func TestHist_MergedExportsEqualOneHistogramOfEveryValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	all, parts := NewHist(), []*Hist{NewHist(), NewHist(), NewHist()}
	for i := 0; i < 30000; i++ {
		d := time.Duration(math.Exp(rng.Float64()*math.Log(1e7))) * time.Microsecond
		all.Record(d)
		parts[i%3].Record(d)
	}
	merged := NewHist()
	for _, p := range parts {
		// Through JSON, as between a load process and the tool.
		b, err := json.Marshal(p.Export())
		if err != nil {
			t.Fatal(err)
		}
		var s HistSnapshot
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		merged.Merge(&s)
	}
	if got, want := merged.Summary(), all.Summary(); got != want {
		t.Errorf("merged %+v\n   want %+v", got, want)
	}
	if !slices.Equal(merged.Export().N, all.Export().N) || !slices.Equal(merged.Export().I, all.Export().I) {
		t.Error("merged buckets differ from the single histogram's")
	}
}

func TestHist_ConcurrentRecordsAreAllCounted(t *testing.T) {
	h := NewHist()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 5000; i++ {
				h.Record(time.Duration(g*1000+i) * time.Microsecond)
			}
		}(g)
	}
	wg.Wait()
	if n := h.Count(); n != 40000 {
		t.Errorf("count %d, want 40000", n)
	}
}

func TestCounters_ShardsSumAndTimesSpanEveryShard(t *testing.T) {
	c := newCounters()
	t0 := time.Unix(100, 0)
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				c.addOn(i, kReceived, 1)
				c.markOn(i, kReceived, t0.Add(time.Duration(i*1000+j)))
			}
		}(i)
	}
	wg.Wait()
	c.max(kListMax, 7)
	c.max(kListMax, 3)
	snap := c.snapshot()
	if snap[cReceived] != 16000 || snap[cListMax] != 7 {
		t.Errorf("snapshot %v: want 16000 received, list max 7", snap)
	}
	first, last := c.times()
	if first[cReceived] != t0.UnixNano() || last[cReceived] != t0.Add(15999).UnixNano() {
		t.Errorf("first %d last %d, want %d and %d", first[cReceived], last[cReceived], t0.UnixNano(), t0.Add(15999).UnixNano())
	}
	c.reset(kReceived)
	c.resetTimes()
	if n := c.get(kReceived); n != 0 {
		t.Errorf("after reset %d received", n)
	}
	if f, _ := c.times(); len(f) != 0 {
		t.Errorf("after reset times %v", f)
	}
}

func TestSendFrame_IsTheRequestJSONWouldMake(t *testing.T) {
	w := &worker{job: Job{Prefix: `sb"x\`}, spec: Spec{MsgSize: 40}}
	at := time.Unix(1700000000, 123456789)
	for _, tc := range []struct {
		op, ch string
		peer   int
		want   protocol.Request
	}{
		{protocol.OpMessageInstantSend, "", 17, protocol.Request{Op: protocol.OpMessageInstantSend, Account: `sb"x\-17`}},
		{protocol.OpMessageChannelSend, "room\n1", -1, protocol.Request{Op: protocol.OpMessageChannelSend, ChannelID: "room\n1"}},
	} {
		b := w.sendFrame(nil, tc.op, tc.peer, tc.ch, at, 42)
		var got protocol.Request
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v\n%s", b, err, b)
		}
		tc.want.Msg, tc.want.MsgID = stampMsg(at, 40), msgID(at, 42)
		if got != tc.want {
			t.Errorf("frame %s\n decodes to %+v\n       want %+v", b, got, tc.want)
		}
		if stampOf(b) != at.UnixNano() || idStamp(field(b, []byte(`"msgID":"`))) != at.UnixNano() {
			t.Errorf("frame %s: stamps %d and %d, want %d", b, stampOf(b), idStamp(field(b, []byte(`"msgID":"`))), at.UnixNano())
		}
	}
}

// stampMsg and msgID are what sendFrame must write, spelled the slow way.
func stampMsg(t time.Time, size int) string {
	s := "~T" + strconv.FormatInt(t.UnixNano(), 10) + "~"
	for len(s) < size {
		s += "x"
	}
	return s
}

func msgID(t time.Time, k int64) string {
	return "b" + strconv.FormatInt(t.UnixNano(), 36) + "-" + strconv.FormatInt(k, 36)
}
