package edge

// registerChannels adds the edge's own handlers of channel operations.
func (s *Server) registerChannels() {}
