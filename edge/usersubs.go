package edge

import (
	"hash/fnv"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/subjects"
)

// An edge subscribes to the subject of every account it holds a session of.
// A callback subscription costs a goroutine each; these feed a few shared
// channels instead, each drained by one goroutine, so that an idle session
// costs no goroutine. An account's subject always feeds the same shard, so
// its deliveries keep their order.

const (
	userShards    = 16
	userShardSize = 1 << 15
)

// startUserShards starts the goroutines that hand user deliveries on.
func (s *Server) startUserShards() {
	for i := range s.userShards {
		ch := make(chan *nats.Msg, userShardSize)
		s.userShards[i] = ch
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				select {
				case <-s.ctx.Done():
					return
				case m := <-ch:
					app, account, ok := subjects.ParseUser(m.Subject)
					if ok {
						s.onUserMsg(userKey{app, account}, m)
					}
				}
			}
		}()
	}
}

// subscribeUser subscribes to an account's subject through its shard.
func (s *Server) subscribeUser(subject string) (*nats.Subscription, error) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(subject))
	return s.nc.ChanSubscribe(subject, s.userShards[h.Sum32()%userShards])
}
