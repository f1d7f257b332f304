package handlers

import "context"

// registerUsers adds the user attribute and invoke handlers.
func (s *Service) registerUsers() {}

// userConnTimeout is the account's _conn_timeout attribute, when set.
func (s *Service) userConnTimeout(ctx context.Context, app, account string) (int, bool) {
	return 0, false
}
