package handlers

// registerInvites adds the invitation handlers.
func (s *Service) registerInvites() {}
