package e2e_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/handlers"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/subjects"
)

// TestRefresh_ARoundsWritesAreSpreadOverHalfTheRound: an edge renews its
// session records every third of the TTL, and spreads a round's writes over
// the first half of it instead of making them all at once, which put a
// burst of KV writes before every request of that moment. Every record is
// renewed in every round.
func TestRefresh_ARoundsWritesAreSpreadOverHalfTheRound(t *testing.T) {
	t.Parallel()
	const (
		ttl   = 9 * time.Second
		round = ttl / 3 // 3 s
		over  = round / 2
		users = 40
	)
	env := testenv.Start(t, testenv.Options{
		Edge:   func(c *edge.Config) { c.SessionTTL = ttl },
		Worker: func(c *handlers.Config) { c.SessionTTL = ttl },
	})
	keys := map[string]bool{}
	for i := range users {
		account := fmt.Sprintf("refresh-%d", i)
		env.LoginUser(t, 0, account)
		keys[subjects.KVSubject("sb-sessions", subjects.Key(testenv.App.ID, account))] = true
	}

	type write struct {
		at  time.Time
		key string
	}
	var (
		mu     sync.Mutex
		writes []write
		more   = make(chan struct{}, 1)
	)
	nc, _ := testenv.JetStream(t, env.NATS)
	sub, err := nc.Subscribe(subjects.KVSubject("sb-sessions", ">"), func(m *nats.Msg) {
		if !keys[m.Subject] {
			return
		}
		mu.Lock()
		writes = append(writes, write{time.Now(), m.Subject})
		mu.Unlock()
		select {
		case more <- struct{}{}:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	// Rounds are told apart by the pause between them (at least half a
	// round); the first may have begun before the subscription.
	complete := func() []write {
		mu.Lock()
		defer mu.Unlock()
		var rounds [][]write
		for i, w := range writes {
			if i == 0 || w.at.Sub(writes[i-1].at) > over/2 {
				rounds = append(rounds, nil)
			}
			rounds[len(rounds)-1] = append(rounds[len(rounds)-1], w)
		}
		// The second round is complete once the third has begun.
		if len(rounds) < 3 {
			return nil
		}
		return rounds[1]
	}
	deadline := time.After(4 * round)
	var r []write
	for r = complete(); r == nil; r = complete() {
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("no complete refresh round within %s: %d writes", 4*round, len(writes))
		}
	}
	seen := map[string]int{}
	for _, w := range r {
		seen[w.key]++
	}
	if len(seen) != users || len(r) != users {
		t.Errorf("a round wrote %d records (%d keys), want each of the %d once", len(r), len(seen), users)
	}
	span := r[len(r)-1].at.Sub(r[0].at)
	t.Logf("a round of %d refreshes took %s (spread over %s)", len(r), span.Round(time.Millisecond), over)
	if span < over/2 {
		t.Errorf("a round's %d writes came within %s, want them spread over about %s", len(r), span, over)
	}
}
