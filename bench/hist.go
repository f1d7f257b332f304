package bench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Latencies are recorded in microseconds, from 1 µs to 5 minutes, to three
// significant figures: the percentiles are exact to 0.1 % whatever the
// spread, and histograms from several load processes merge without losing
// anything.
//
// The layout is HDR's (log-linear): values below 2,048 µs each have a
// bucket of their own; above, every power of two is split into 1,024
// buckets. Recording is one atomic add, with no lock: a load process
// records hundreds of thousands of deliveries a second from as many reader
// goroutines, and a mutex there cost the load more CPU than the server
// spent delivering.
const (
	histMin  = 1
	histMax  = int64(5 * time.Minute / time.Microsecond)
	subBits  = 11 // 2,048 sub-buckets: a relative error under 1/1,024
	subCount = 1 << subBits
	subHalf  = subCount / 2
	// chunkSize buckets are allocated together, on first use: a latency
	// histogram touches a few powers of two, not all of them.
	chunkSize = subHalf
	// histChunks covers histMax (< 2^29 µs): chunks 0 and 1 are the first
	// 2,048 values, then one chunk for each power of two up to 2^29.
	histChunks = 2 + 29 - subBits
)

// Hist is a latency histogram, safe for concurrent use without locks.
type Hist struct {
	chunks [histChunks]atomic.Pointer[[chunkSize]atomic.Int64]
}

// NewHist returns an empty histogram.
func NewHist() *Hist { return &Hist{} }

// Record adds one latency; values outside the range are clamped to it.
func (h *Hist) Record(d time.Duration) { h.add(histIndex(d.Microseconds()), 1) }

func (h *Hist) add(i int, n int64) {
	p := &h.chunks[i/chunkSize]
	c := p.Load()
	if c == nil {
		c = new([chunkSize]atomic.Int64)
		if !p.CompareAndSwap(nil, c) {
			c = p.Load()
		}
	}
	c[i%chunkSize].Add(n)
}

// histIndex is the bucket of a value in microseconds.
func histIndex(us int64) int {
	us = min(max(us, histMin), histMax)
	if us < subCount {
		return int(us)
	}
	shift := bits.Len64(uint64(us)) - subBits
	return subCount + (shift-1)*subHalf + int(us>>shift) - subHalf
}

// bucketRange is the lowest value of bucket i and how many values it holds.
func bucketRange(i int) (lo, size int64) {
	if i < subCount {
		return int64(i), 1
	}
	shift := (i-subCount)/subHalf + 1
	sub := int64((i-subCount)%subHalf + subHalf)
	return sub << shift, 1 << shift
}

// each calls f for every bucket that holds values, in order.
func (h *Hist) each(f func(i int, n int64)) {
	for ci := range h.chunks {
		c := h.chunks[ci].Load()
		if c == nil {
			continue
		}
		for j := range c {
			if n := c[j].Load(); n != 0 {
				f(ci*chunkSize+j, n)
			}
		}
	}
}

// Count is the number of recorded values.
func (h *Hist) Count() int64 {
	var total int64
	h.each(func(_ int, n int64) { total += n })
	return total
}

// HistSnapshot is a histogram's counts, for another process to merge: the
// buckets that hold values (I) and how many each holds (N).
type HistSnapshot struct {
	I []int   `json:"i"`
	N []int64 `json:"n"`
}

// Export returns a copy of the counts.
func (h *Hist) Export() *HistSnapshot {
	s := &HistSnapshot{}
	h.each(func(i int, n int64) {
		s.I = append(s.I, i)
		s.N = append(s.N, n)
	})
	return s
}

// Merge adds the values of an exported histogram; buckets out of range are
// ignored.
func (h *Hist) Merge(s *HistSnapshot) {
	if s == nil {
		return
	}
	for k, i := range s.I {
		if i >= 0 && i < histChunks*chunkSize && k < len(s.N) {
			h.add(i, s.N[k])
		}
	}
}

// Summary is a latency distribution in milliseconds.
type Summary struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

// Summary reads the distribution. As in HDR, a percentile is the highest
// value of the bucket that holds it (never below the true value, at most
// 0.1 % above it), and the mean weighs each bucket by its middle.
func (h *Hist) Summary() Summary {
	type bucket struct {
		i int
		n int64
	}
	var bs []bucket
	var total int64
	var sum float64
	h.each(func(i int, n int64) {
		bs = append(bs, bucket{i, n})
		total += n
		lo, size := bucketRange(i)
		sum += float64(n) * (float64(lo) + float64(size-1)/2)
	})
	if total == 0 {
		return Summary{}
	}
	highest := func(i int) float64 {
		lo, size := bucketRange(i)
		return float64(lo+size-1) / 1000
	}
	at := func(q float64) float64 {
		want := max(1, int64(q*float64(total)+0.5))
		var seen int64
		for _, b := range bs {
			if seen += b.n; seen >= want {
				return highest(b.i)
			}
		}
		return highest(bs[len(bs)-1].i)
	}
	return Summary{
		Count: total,
		Mean:  sum / float64(total) / 1000,
		P50:   at(0.50),
		P90:   at(0.90),
		P99:   at(0.99),
		P999:  at(0.999),
		Max:   highest(bs[len(bs)-1].i),
	}
}
