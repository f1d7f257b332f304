package apps

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const whSecret = "whsec-5ecret-5ecret-5ecret"

func TestWebhook_PrintingRedactsSecret(t *testing.T) {
	a := App{ID: "app1", Certificate: secret, Webhook: Webhook{URL: "https://hooks.example/x", Secret: whSecret}}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("loaded", "app", a, "webhook", a.Webhook)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("loaded", "app", a)
	marshalled, _ := json.Marshal(a)
	for name, out := range map[string]string{
		"%v": fmt.Sprintf("%v", a), "%+v": fmt.Sprintf("%+v", a), "%#v": fmt.Sprintf("%#v", a),
		"%x": fmt.Sprintf("%x", a), "webhook %+v": fmt.Sprintf("%+v", a.Webhook), "webhook %x": fmt.Sprintf("%x", a.Webhook),
		"slog text": text.String(), "slog json": js.String(), "json": string(marshalled),
	} {
		if strings.Contains(out, whSecret) || strings.Contains(out, fmt.Sprintf("%x", whSecret)) {
			t.Errorf("%s leaks the webhook secret: %s", name, out)
		}
	}
	if !strings.Contains(fmt.Sprint(a), "hooks.example") {
		t.Errorf("the webhook URL is not shown: %s", a)
	}
}

func TestWebhook_Wants(t *testing.T) {
	def := Webhook{URL: "http://h/", Secret: whSecret}
	for _, typ := range []string{EventLogin, EventLogout, EventChannelJoin, EventChannelLeave} {
		if !def.Wants(typ) {
			t.Errorf("default selection lacks %s", typ)
		}
	}
	if def.Wants(EventChannelMessage) {
		t.Error("channel messages are on by default")
	}
	sel, err := ParseEvents([]string{EventLogout, EventChannelMessage})
	if err != nil {
		t.Fatal(err)
	}
	w := Webhook{URL: "http://h/", Secret: whSecret, Events: sel}
	if w.Wants(EventLogin) || !w.Wants(EventLogout) || !w.Wants(EventChannelMessage) {
		t.Errorf("selection %v", sel.Names())
	}
	if (Webhook{}).Wants(EventLogin) {
		t.Error("no webhook wants events")
	}
}

func TestLoad_Webhooks(t *testing.T) {
	dir, n := t.TempDir(), 0
	file := func(body string) string {
		n++
		p := filepath.Join(dir, fmt.Sprintf("f%d.json", n))
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	app := func(webhook string) string {
		return file(`{"apps":[{"id":"a","certificate":"` + secret + `","webhook":` + webhook + `}]}`)
	}
	loginOnly, _ := ParseEvents([]string{EventLogin})
	for _, tt := range []struct {
		name    string
		env     map[string]string
		wantErr string
		want    Webhook
	}{
		{"file", map[string]string{EnvAppsFile: app(`{"url":"https://h.example/in","secret":"` + whSecret + `","events":["login"]}`)}, "",
			Webhook{URL: "https://h.example/in", Secret: whSecret, Events: loginOnly}},
		{"env", map[string]string{EnvAppID: "a", EnvAppCertificate: secret, EnvAppWebhookURL: "http://127.0.0.1:9/x",
			EnvAppWebhookSecret: whSecret, EnvAppWebhookEvents: " login , "}, "",
			Webhook{URL: "http://127.0.0.1:9/x", Secret: whSecret, Events: loginOnly}},
		{"env defaults", map[string]string{EnvAppID: "a", EnvAppCertificate: secret, EnvAppWebhookURL: "http://h/", EnvAppWebhookSecret: whSecret}, "",
			Webhook{URL: "http://h/", Secret: whSecret}},
		{"unknown event", map[string]string{EnvAppsFile: app(`{"url":"http://h/","secret":"` + whSecret + `","events":["logins"]}`)}, `unknown webhook event "logins"`, Webhook{}},
		{"env unknown event", map[string]string{EnvAppID: "a", EnvAppCertificate: secret, EnvAppWebhookURL: "http://h/",
			EnvAppWebhookSecret: whSecret, EnvAppWebhookEvents: "join"}, `unknown webhook event "join"`, Webhook{}},
		{"short secret", map[string]string{EnvAppsFile: app(`{"url":"http://h/","secret":"short"}`)}, "at least 16 bytes", Webhook{}},
		{"no secret", map[string]string{EnvAppID: "a", EnvAppCertificate: secret, EnvAppWebhookURL: "http://h/"}, "at least 16 bytes", Webhook{}},
		{"secret with newline", map[string]string{EnvAppsFile: app(`{"url":"http://h/","secret":"` + whSecret + `\n"}`)}, "white space", Webhook{}},
		{"relative URL", map[string]string{EnvAppsFile: app(`{"url":"/hook","secret":"` + whSecret + `"}`)}, "absolute http or https", Webhook{}},
		{"other scheme", map[string]string{EnvAppsFile: app(`{"url":"ftp://h/x","secret":"` + whSecret + `"}`)}, "absolute http or https", Webhook{}},
		{"secret without URL", map[string]string{EnvAppsFile: app(`{"url":"","secret":"` + whSecret + `"}`)}, "without a webhook URL", Webhook{}},
		{"webhook without app", map[string]string{EnvAppWebhookURL: "http://h/", EnvAppWebhookSecret: whSecret}, "SB_APP_ID is not", Webhook{}},
		{"unknown field", map[string]string{EnvAppsFile: app(`{"url":"http://h/","secret":"` + whSecret + `","retries":3}`)}, `unknown field "retries"`, Webhook{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Load(func(k string) string { return tt.env[k] })
			checkErr(t, err, tt.wantErr)
			if err != nil {
				if strings.Contains(err.Error(), whSecret) {
					t.Errorf("error %q holds the secret", err)
				}
				return
			}
			got, _ := r.Lookup("a")
			if got.Webhook != tt.want {
				t.Errorf("webhook %+v, want %+v", got.Webhook.shown(), tt.want.shown())
			}
		})
	}
}
