package bench

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds, from 1 µs to 5 minutes, to three
// significant figures (HDR histogram): the percentiles are exact to 0.1 %
// whatever the spread, and histograms from several load processes merge
// without losing anything.
const (
	histMin     = 1
	histMax     = int64(5 * time.Minute / time.Microsecond)
	histSigFigs = 3
)

// Hist is a latency histogram, safe for concurrent use.
type Hist struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
}

// NewHist returns an empty histogram.
func NewHist() *Hist {
	return &Hist{h: hdrhistogram.New(histMin, histMax, histSigFigs)}
}

// Record adds one latency; values outside the range are clamped to it.
func (h *Hist) Record(d time.Duration) {
	us := d.Microseconds()
	if us < histMin {
		us = histMin
	}
	if us > histMax {
		us = histMax
	}
	h.mu.Lock()
	_ = h.h.RecordValue(us)
	h.mu.Unlock()
}

// Count is the number of recorded values.
func (h *Hist) Count() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.h.TotalCount()
}

// Export returns a copy of the counts, for another process to merge.
func (h *Hist) Export() *hdrhistogram.Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.h.Export()
}

// Merge adds the values of an exported histogram.
func (h *Hist) Merge(s *hdrhistogram.Snapshot) {
	if s == nil {
		return
	}
	from := hdrhistogram.Import(s)
	h.mu.Lock()
	h.h.Merge(from)
	h.mu.Unlock()
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

// Summary reads the distribution.
func (h *Hist) Summary() Summary {
	h.mu.Lock()
	defer h.mu.Unlock()
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Summary{
		Count: h.h.TotalCount(),
		Mean:  h.h.Mean() / 1000,
		P50:   ms(h.h.ValueAtQuantile(50)),
		P90:   ms(h.h.ValueAtQuantile(90)),
		P99:   ms(h.h.ValueAtQuantile(99)),
		P999:  ms(h.h.ValueAtQuantile(99.9)),
		Max:   ms(h.h.Max()),
	}
}
