package node

import (
	"strings"
	"testing"
	"time"
)

func TestFromEnv_WriteCoalesce(t *testing.T) {
	env := func(kv map[string]string) func(string) string {
		kv["SB_DATA_DIR"] = t.TempDir()
		return func(k string) string { return kv[k] }
	}
	for v, want := range map[string]time.Duration{"": 20 * time.Millisecond, "0s": 0, "5ms": 5 * time.Millisecond, "1s": time.Second} {
		cfg, err := FromEnv(env(map[string]string{"SB_WRITE_COALESCE": v}))
		if err != nil || cfg.EdgeConfig.WriteCoalesce != want {
			t.Errorf("SB_WRITE_COALESCE=%q: %v, %v; want %v", v, cfg.EdgeConfig.WriteCoalesce, err, want)
		}
	}
	for _, bad := range []string{"-1ms", "2s", "soon", "20"} {
		_, err := FromEnv(env(map[string]string{"SB_WRITE_COALESCE": bad}))
		if err == nil || !strings.Contains(err.Error(), "SB_WRITE_COALESCE") {
			t.Errorf("SB_WRITE_COALESCE=%s: %v", bad, err)
		}
	}
}
