package apps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/token"
)

const secret = "c0ffee5ecret0c0ffee5ecret0c0ffee"

const apiSecret = "a9i5ecret-a9i5ecret-a9i5ecret"

var (
	now    = time.Unix(1700000000, 0)
	future = now.Add(time.Hour).Unix()
)

func TestApp_PrintingRedactsCertificate(t *testing.T) {
	a := App{ID: "app1", Certificate: secret, AllowNoToken: true, APISecret: apiSecret}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("loaded", "app", a)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("loaded", "app", a, slog.Any("ptr", &a))
	marshalled, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}

	outputs := map[string]string{
		"Sprint":       fmt.Sprint(a),
		"%v":           fmt.Sprintf("%v", a),
		"%+v":          fmt.Sprintf("%+v", a),
		"%#v":          fmt.Sprintf("%#v", a),
		"%s":           fmt.Sprintf("%s", a),
		"%q":           fmt.Sprintf("%q", a),
		"%x":           fmt.Sprintf("%x", a),
		"%X":           fmt.Sprintf("%X", a),
		"%d":           fmt.Sprintf("%d", a),
		"pointer %+v":  fmt.Sprintf("%+v", &a),
		"slice %v":     fmt.Sprintf("%v", []App{a}),
		"map %#v":      fmt.Sprintf("%#v", map[string]App{"k": a}),
		"struct %+v":   fmt.Sprintf("%+v", struct{ A App }{a}),
		"slog text":    text.String(),
		"slog json":    js.String(),
		"json.Marshal": string(marshalled),
	}
	for name, out := range outputs {
		if strings.Contains(out, secret) || strings.Contains(out, fmt.Sprintf("%x", secret)) {
			t.Errorf("%s leaks the certificate: %s", name, out)
		}
		if strings.Contains(out, apiSecret) || strings.Contains(out, fmt.Sprintf("%x", apiSecret)) {
			t.Errorf("%s leaks the API secret: %s", name, out)
		}
		if !strings.Contains(out, "app1") && name != "%x" && name != "%X" {
			t.Errorf("%s lost the ID: %s", name, out)
		}
	}

	if got, want := fmt.Sprint(a), "{ID:app1 Certificate:[redacted] AllowNoToken:true APISecret:[redacted]}"; got != want {
		t.Errorf("Sprint = %s, want %s", got, want)
	}
	if got, want := fmt.Sprintf("%#v", a), `apps.App{ID:"app1", Certificate:"[redacted]", AllowNoToken:true, APISecret:"[redacted]"}`; got != want {
		t.Errorf("%%#v = %s, want %s", got, want)
	}
	if !strings.Contains(text.String(), "app.certificate=[redacted]") || !strings.Contains(text.String(), "app.id=app1") {
		t.Errorf("slog text output: %s", text.String())
	}
}

func TestApp_PrintingShowsMissingCertificate(t *testing.T) {
	got := fmt.Sprint(DevApp())
	if want := "{ID:switchboard-dev Certificate: AllowNoToken:true APISecret:[redacted]}"; got != want {
		t.Errorf("Sprint = %s, want %s", got, want)
	}
}

func TestApp_CheckToken(t *testing.T) {
	withCert := App{ID: "app1", Certificate: secret}
	withCertAndNoToken := App{ID: "app1", Certificate: secret, AllowNoToken: true}
	dev := DevApp()
	good := token.GenerateV2("app1", secret, "alice", future)

	tests := []struct {
		name    string
		app     App
		account string
		tok     string
		wantExp int64
		wantErr error
	}{
		{"v2 token", withCert, "alice", good, future, nil},
		{"v1 token", withCert, "alice", token.GenerateV1("app1", secret, "alice", 0), 0, nil},
		{"wrong account", withCert, "bob", good, 0, token.ErrBadSignature},
		{"expired", withCert, "alice", token.GenerateV1("app1", secret, "alice", now.Unix()), now.Unix(), token.ErrExpired},
		{"other app's token", withCert, "alice", token.GenerateV1("app2", secret, "alice", 0), 0, token.ErrWrongApp},
		{"garbage", withCert, "alice", "garbage", 0, token.ErrMalformed},
		{"no token not allowed", withCert, "alice", NoToken, 0, ErrNoTokenNotAllowed},
		{"no token allowed", withCertAndNoToken, "alice", NoToken, token.NeverExpires, nil},
		{"real token still checked when no token allowed", withCertAndNoToken, "alice", good, future, nil},
		{"dev app takes no token", dev, "alice", NoToken, token.NeverExpires, nil},
		{"dev app rejects a real token", dev, "alice", token.GenerateV1(DevAppID, "", "alice", 0), 0, token.ErrBadSignature},
		{"no certificate and no token not allowed", App{ID: "x"}, "alice", NoToken, 0, ErrNoTokenNotAllowed},
		{"no certificate rejects empty-key signature", App{ID: "x"}, "alice", token.GenerateV2("x", "", "alice", 0), 0, token.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp, err := tt.app.CheckToken(tt.account, tt.tok, now)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if exp != tt.wantExp {
				t.Errorf("expiry = %d, want %d", exp, tt.wantExp)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains the certificate", err)
			}
		})
	}
}

// Handlers map anything but expiry to 206; ErrNoTokenNotAllowed must fall in
// that bucket without the handler knowing about it.
func TestErrNoTokenNotAllowed_IsBadSignature(t *testing.T) {
	if !errors.Is(ErrNoTokenNotAllowed, token.ErrBadSignature) {
		t.Fatal("ErrNoTokenNotAllowed does not wrap token.ErrBadSignature")
	}
	if errors.Is(ErrNoTokenNotAllowed, token.ErrExpired) {
		t.Fatal("ErrNoTokenNotAllowed reads as expired")
	}
}
