package node

import (
	"strings"
	"testing"
)

func TestFromEnv_ServerAPISettings(t *testing.T) {
	env := func(kv map[string]string) func(string) string {
		return func(k string) string { return kv[k] }
	}
	cfg, err := FromEnv(env(map[string]string{"SB_DATA_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIListen != "" || cfg.API.Rate != 1000 {
		t.Fatalf("defaults: listen %q rate %d; want off and 1000", cfg.APIListen, cfg.API.Rate)
	}
	cfg, err = FromEnv(env(map[string]string{"SB_DATA_DIR": t.TempDir(), "SB_API_LISTEN": "127.0.0.1:7402", "SB_API_RATE": "50"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIListen != "127.0.0.1:7402" || cfg.API.Rate != 50 {
		t.Fatalf("listen %q rate %d", cfg.APIListen, cfg.API.Rate)
	}
	for _, bad := range []string{"0", "-1", "many"} {
		_, err := FromEnv(env(map[string]string{"SB_DATA_DIR": t.TempDir(), "SB_API_RATE": bad}))
		if err == nil || !strings.Contains(err.Error(), "SB_API_RATE") {
			t.Errorf("SB_API_RATE=%s: %v", bad, err)
		}
	}
}
