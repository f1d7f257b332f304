package node

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-io/switchboard/apps"
)

// TestFromEnv_DemoOnlyForTheEmbeddedDefault: the demo page is on for the
// embedded default and off against an external NATS unless SB_DEMO says
// otherwise; the SDK is served unless SB_SDK is false.
func TestFromEnv_DemoOnlyForTheEmbeddedDefault(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		demo     bool
		sdk      bool
		demoApp  string
		errorHas string
	}{
		{name: "embedded default", env: map[string]string{}, demo: true, sdk: true},
		{name: "production", env: map[string]string{"NATS_URL": "nats://n:4222"}, demo: false, sdk: true},
		{name: "production with SB_DEMO", env: map[string]string{"NATS_URL": "nats://n:4222", "SB_DEMO": "true", "SB_DEMO_APP": "demo"}, demo: true, sdk: true, demoApp: "demo"},
		{name: "embedded without", env: map[string]string{"SB_DEMO": "false"}, demo: false, sdk: true},
		{name: "no SDK", env: map[string]string{"SB_DEMO": "0", "SB_SDK": "false"}, demo: false, sdk: false},
		{name: "bad SB_DEMO", env: map[string]string{"SB_DEMO": "maybe"}, errorHas: "SB_DEMO must be true or false"},
		{name: "bad SB_SDK", env: map[string]string{"SB_SDK": "sometimes"}, errorHas: "SB_SDK must be true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"SB_DATA_DIR": t.TempDir()}
			for k, v := range tc.env {
				env[k] = v
			}
			cfg, err := FromEnv(func(k string) string { return env[k] })
			if tc.errorHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errorHas) {
					t.Fatalf("error %v, want one saying %q", err, tc.errorHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Demo != tc.demo || cfg.EdgeConfig.SDK != tc.sdk || cfg.DemoApp != tc.demoApp {
				t.Errorf("Demo %v, SDK %v, DemoApp %q; want %v, %v, %q", cfg.Demo, cfg.EdgeConfig.SDK, cfg.DemoApp, tc.demo, tc.sdk, tc.demoApp)
			}
		})
	}
}

// TestStart_DemoRefusesWhatCannotWork: a demo page whose app refuses
// _no_need_token, or is not configured, or without the SDK to load, is a
// failed start that says why, not a page on which every sign-in fails.
func TestStart_DemoRefusesWhatCannotWork(t *testing.T) {
	strict, err := apps.NewRegistry(apps.App{ID: "strict", Certificate: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		cfg      Config
		errorHas string
	}{
		{"app refuses _no_need_token", Config{Demo: true, DemoApp: "strict", Apps: strict}, `"strict" (SB_DEMO_APP) does not accept _no_need_token`},
		{"app unknown", Config{Demo: true, DemoApp: "nope", Apps: strict}, `"nope" (SB_DEMO_APP) is not configured`},
		{"no SDK", Config{Demo: true, Apps: apps.WithDevApp(nil)}, "SB_SDK must not be off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Edge, tc.cfg.Listen, tc.cfg.DataDir, tc.cfg.Memory = true, "127.0.0.1:0", t.TempDir(), true
			tc.cfg.EdgeConfig.SDK = tc.name != "no SDK"
			n, err := Start(context.Background(), tc.cfg)
			if err == nil {
				_ = n.Close(context.Background())
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.errorHas) {
				t.Fatalf("error %q, want one saying %s", err, tc.errorHas)
			}
		})
	}
}
