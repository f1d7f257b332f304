package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/api"
	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/handlers"
)

// DefaultListen is the default HTTP address of an edge against an external
// NATS (production): every interface.
const DefaultListen = ":7400"

// DevListen is the default HTTP address of the embedded default: loopback
// only, since its development app lets anyone log in as anyone.
const DevListen = "127.0.0.1:7400"

// FromEnv builds a Config from environment variables (docs/configuration.md
// lists them). With no NATS_URL it asks for the embedded default: NATS,
// worker and edge in one process, and the development app when no app is
// configured.
func FromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		NATSURL:       getenv("NATS_URL"),
		Listen:        getenv("SB_LISTEN"),
		DataDir:       getenv("SB_DATA_DIR"),
		NATSListen:    getenv("SB_NATS_LISTEN"),
		MetricsListen: getenv("SB_METRICS_LISTEN"),
		HealthListen:  getenv("SB_HEALTH_LISTEN"),
		DebugListen:   getenv("SB_DEBUG_LISTEN"),
		APIListen:     getenv("SB_API_LISTEN"),
		EdgeConfig:    edge.DefaultConfig(),
		WorkerConfig:  handlers.DefaultConfig(),
	}
	if cfg.DataDir == "" {
		cfg.DataDir = defaultDataDir(getenv)
	}
	if cfg.Listen == "" {
		cfg.Listen = defaultListen(cfg.NATSURL)
	}
	var err error
	if cfg.Replicas, err = intVar(getenv, "SB_REPLICAS", 1); err != nil {
		return cfg, err
	}
	if cfg.Memory, err = boolVar(getenv, "SB_KV_MEMORY"); err != nil {
		return cfg, err
	}
	ct, err := intVar(getenv, "SB_CONN_TIMEOUT", 120)
	if err != nil {
		return cfg, err
	}
	if ct < 20 || ct > 120 {
		return cfg, fmt.Errorf("SB_CONN_TIMEOUT must be 20 to 120 seconds, not %d", ct)
	}
	cfg.EdgeConfig.ConnTimeout, cfg.WorkerConfig.ConnTimeout = ct, ct
	if v := getenv("SB_SESSION_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 3*time.Second {
			return cfg, fmt.Errorf("SB_SESSION_TTL must be a duration of at least 3s")
		}
		cfg.EdgeConfig.SessionTTL, cfg.WorkerConfig.SessionTTL = d, d
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
		min  time.Duration
	}{
		{"SB_INVITE_OFFLINE_WAIT", &cfg.WorkerConfig.InviteOfflineWait, time.Second},
		{"SB_INVITE_RING_TIMEOUT", &cfg.WorkerConfig.InviteRingTimeout, time.Second},
		// Webhook delivery (docs/webhooks.md).
		{"SB_WEBHOOK_TIMEOUT", &cfg.Webhooks.Timeout, 100 * time.Millisecond},
		{"SB_WEBHOOK_BACKOFF_BASE", &cfg.Webhooks.BackoffBase, 100 * time.Millisecond},
		{"SB_WEBHOOK_BACKOFF_MAX", &cfg.Webhooks.BackoffMax, 100 * time.Millisecond},
		{"SB_WEBHOOK_ACK_WAIT", &cfg.Webhooks.AckWait, 100 * time.Millisecond},
	} {
		if v := getenv(d.name); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil || dur < d.min {
				return cfg, fmt.Errorf("%s must be a duration of at least %v", d.name, d.min)
			}
			*d.dst = dur
		}
	}
	if cfg.API.Rate, err = intVar(getenv, "SB_API_RATE", api.DefaultRate); err != nil {
		return cfg, err
	}
	if cfg.API.Rate < 1 {
		return cfg, fmt.Errorf("SB_API_RATE must be at least 1 request per second")
	}
	cfg.EdgeConfig.ID = getenv("SB_EDGE_ID")
	if err := pageVars(getenv, &cfg); err != nil {
		return cfg, err
	}
	if err := handshakeVars(getenv, &cfg); err != nil {
		return cfg, err
	}
	if cfg.Apps, err = apps.Load(getenv); err != nil {
		return cfg, err
	}
	if cfg.NATSURL == "" && cfg.Apps.Len() == 0 {
		cfg.Apps = apps.WithDevApp(cfg.Apps)
	}
	cfg.NATSOptions, err = natsOptions(getenv)
	return cfg, err
}

// defaultListen is the edge's address when SB_LISTEN is unset: loopback
// for the embedded default (no NATS URL), every interface in production.
func defaultListen(natsURL string) string {
	if natsURL == "" {
		return DevListen
	}
	return DefaultListen
}

// handshakeVars reads what an edge refuses before a session exists:
// origins, connections per address, connections that do not log in. The
// embedded default, a development server on loopback, lets pages of any
// origin connect unless told otherwise; production allows its own host.
func handshakeVars(getenv func(string) string, cfg *Config) error {
	ec := &cfg.EdgeConfig
	origins, err := edge.ParseAllowedOrigins(getenv("SB_ALLOWED_ORIGINS"))
	if err != nil {
		return fmt.Errorf("SB_ALLOWED_ORIGINS: %w", err)
	}
	ec.AllowedOrigins = origins
	if origins == nil && cfg.NATSURL == "" {
		ec.AllowedOrigins = []string{edge.AnyOrigin}
	}
	n, err := intVar(getenv, "SB_MAX_CONNS_PER_ADDR", edge.DefaultMaxConnsPerAddr)
	if err != nil {
		return err
	}
	switch {
	case n < 0:
		return fmt.Errorf("SB_MAX_CONNS_PER_ADDR must be 0 (no cap) or more, not %d", n)
	case n == 0:
		ec.MaxConnsPerAddr = -1 // edge.Config says no cap with a negative number
	default:
		ec.MaxConnsPerAddr = n
	}
	if v := getenv("SB_LOGIN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return fmt.Errorf("SB_LOGIN_TIMEOUT must be a duration of at least 1s")
		}
		ec.LoginTimeout = d
	}
	if v := getenv("SB_WRITE_COALESCE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Second {
			return fmt.Errorf("SB_WRITE_COALESCE must be a duration from 0s to 1s")
		}
		ec.WriteCoalesce = d
	}
	return nil
}

// pageVars reads what an edge serves besides WebSockets: the browser SDK
// (on unless SB_SDK is false) and the demo page (SB_DEMO, on by default for
// the embedded default only; docs/demo.md).
func pageVars(getenv func(string) string, cfg *Config) error {
	var err error
	if getenv("SB_SDK") != "" {
		if cfg.EdgeConfig.SDK, err = boolVar(getenv, "SB_SDK"); err != nil {
			return err
		}
	}
	cfg.Demo = cfg.NATSURL == ""
	if getenv("SB_DEMO") != "" {
		if cfg.Demo, err = boolVar(getenv, "SB_DEMO"); err != nil {
			return err
		}
	}
	cfg.DemoApp = getenv("SB_DEMO_APP")
	return nil
}

// natsOptions reads NATS credentials and TLS settings.
func natsOptions(getenv func(string) string) ([]nats.Option, error) {
	var opts []nats.Option
	if u := getenv("NATS_USER"); u != "" {
		opts = append(opts, nats.UserInfo(u, getenv("NATS_PASSWORD")))
	}
	if f := getenv("NATS_CREDS"); f != "" {
		opts = append(opts, nats.UserCredentials(f))
	}
	if f := getenv("NATS_NKEY_SEED"); f != "" {
		o, err := nats.NkeyOptionFromSeed(f)
		if err != nil {
			return nil, fmt.Errorf("NATS_NKEY_SEED: %w", err)
		}
		opts = append(opts, o)
	}
	if f := getenv("NATS_CA"); f != "" {
		opts = append(opts, nats.RootCAs(f))
	}
	if cert, key := getenv("NATS_CERT"), getenv("NATS_KEY"); cert != "" || key != "" {
		opts = append(opts, nats.ClientCert(cert, key))
	}
	return opts, nil
}

func defaultDataDir(getenv func(string) string) string {
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "switchboard")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "switchboard")
	}
	return filepath.Join(os.TempDir(), "switchboard")
}

func intVar(getenv func(string) string, name string, def int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s must be a whole number", name)
	}
	return n, nil
}

func boolVar(getenv func(string) string, name string) (bool, error) {
	switch strings.ToLower(getenv(name)) {
	case "", "0", "false", "no":
		return false, nil
	case "1", "true", "yes":
		return true, nil
	}
	return false, fmt.Errorf("%s must be true or false", name)
}
