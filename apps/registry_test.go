package apps

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNewRegistry(t *testing.T) {
	tests := []struct {
		name    string
		apps    []App
		wantErr string // substring; "" for success
		wantIDs []string
	}{
		{"none", nil, "", nil},
		{"sorted IDs", []App{{ID: "b", Certificate: "x"}, {ID: "a", AllowNoToken: true}}, "", []string{"a", "b"}},
		{"longest ID", []App{{ID: strings.Repeat("x", MaxIDLen), Certificate: "c"}}, "", []string{strings.Repeat("x", MaxIDLen)}},
		{"visible ASCII edges", []App{{ID: "!~", Certificate: "c"}}, "", []string{"!~"}},
		{"duplicate", []App{{ID: "a", Certificate: "x"}, {ID: "a", Certificate: "y"}}, `duplicate app ID "a"`, nil},
		{"empty ID", []App{{Certificate: "x"}}, "empty app ID", nil},
		{"ID too long", []App{{ID: strings.Repeat("x", MaxIDLen+1), Certificate: "c"}}, "longer than 128", nil},
		{"space in ID", []App{{ID: "a b", Certificate: "c"}}, "outside visible ASCII at byte 1", nil},
		{"non-ASCII ID", []App{{ID: "café", Certificate: "c"}}, "outside visible ASCII", nil},
		{"control byte in ID", []App{{ID: "a\x00", Certificate: "c"}}, "outside visible ASCII", nil},
		{"certificate with newline", []App{{ID: "a", Certificate: secret + "\n"}}, "white space", nil},
		{"app no one can use", []App{{ID: "a"}}, "no one could log in", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRegistry(tt.apps...)
			checkErr(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if got := r.IDs(); !slices.Equal(got, tt.wantIDs) {
				t.Errorf("IDs = %q, want %q", got, tt.wantIDs)
			}
			for _, a := range tt.apps {
				if got, ok := r.Lookup(a.ID); !ok || got != a {
					t.Errorf("Lookup(%q) = %v, %v", a.ID, got, ok)
				}
			}
		})
	}
}

func TestRegistry_LookupMissingAndIDsCopy(t *testing.T) {
	r, err := NewRegistry(App{ID: "a", Certificate: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Lookup("b"); ok {
		t.Error("Lookup of unknown ID succeeded")
	}
	r.IDs()[0] = "changed"
	if r.IDs()[0] != "a" {
		t.Error("IDs returned the registry's own slice")
	}
	var nilReg *Registry
	if _, ok := nilReg.Lookup("a"); ok || nilReg.Len() != 0 || nilReg.IDs() != nil {
		t.Error("nil registry is not empty")
	}
}

func TestWithDevApp(t *testing.T) {
	r := WithDevApp(nil)
	if got, ok := r.Lookup(DevAppID); !ok || got != DevApp() {
		t.Fatalf("dev app missing: %v %v", got, ok)
	}

	base, _ := NewRegistry(App{ID: "prod", Certificate: "x"})
	r = WithDevApp(base)
	if !slices.Equal(r.IDs(), []string{"prod", DevAppID}) {
		t.Errorf("IDs = %q", r.IDs())
	}
	if base.Len() != 1 {
		t.Error("WithDevApp changed its argument")
	}

	// A configured app of the same ID keeps its certificate.
	own := App{ID: DevAppID, Certificate: "mine"}
	base, _ = NewRegistry(own)
	if got, _ := WithDevApp(base).Lookup(DevAppID); got != own {
		t.Errorf("configured dev app replaced by default: %v", got)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// file writes body to a fresh file and returns an env naming it.
	n := 0
	file := func(body string) map[string]string {
		n++
		return map[string]string{EnvAppsFile: write(fmt.Sprintf("apps%d.json", n), body)}
	}
	good := write("good.json", `{"apps":[
		{"id":"app1","certificate":"`+secret+`"},
		{"id":"app2","certificate":"","allowNoToken":true}
	]}`)

	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		want    []App
	}{
		{"nothing configured", nil, "", nil},
		{"file", map[string]string{EnvAppsFile: good}, "",
			[]App{{ID: "app1", Certificate: secret}, {ID: "app2", AllowNoToken: true}}},
		{"env only", map[string]string{EnvAppID: "e", EnvAppCertificate: secret}, "",
			[]App{{ID: "e", Certificate: secret}}},
		{"env allow no token", map[string]string{EnvAppID: "e", EnvAppAllowNoToken: "1"}, "",
			[]App{{ID: "e", AllowNoToken: true}}},
		{"env allow TRUE", map[string]string{EnvAppID: "e", EnvAppCertificate: "c", EnvAppAllowNoToken: "TRUE"}, "",
			[]App{{ID: "e", Certificate: "c", AllowNoToken: true}}},
		{"env allow false", map[string]string{EnvAppID: "e", EnvAppCertificate: "c", EnvAppAllowNoToken: "0"}, "",
			[]App{{ID: "e", Certificate: "c"}}},
		{"file and env", map[string]string{EnvAppsFile: good, EnvAppID: "e", EnvAppCertificate: "c"}, "",
			[]App{{ID: "app1", Certificate: secret}, {ID: "app2", AllowNoToken: true}, {ID: "e", Certificate: "c"}}},

		{"env duplicates file", map[string]string{EnvAppsFile: good, EnvAppID: "app1", EnvAppCertificate: "c"}, `duplicate app ID "app1"`, nil},
		{"env bad bool", map[string]string{EnvAppID: "e", EnvAppAllowNoToken: "yes"}, "must be true, false, 1 or 0", nil},
		{"env certificate without ID", map[string]string{EnvAppCertificate: secret}, "SB_APP_ID is not", nil},
		{"env app no one can use", map[string]string{EnvAppID: "e"}, "no one could log in", nil},
		{"env bad ID", map[string]string{EnvAppID: "a b", EnvAppCertificate: secret}, "SB_APP_ID: app ID has a character outside visible ASCII", nil},
		{"missing file", map[string]string{EnvAppsFile: filepath.Join(dir, "nope.json")}, "no such file", nil},
		{"duplicate in file", file(`{"apps":[{"id":"a","certificate":"x"},{"id":"a","certificate":"` + secret + `"}]}`),
			`apps[1]: duplicate app ID "a", first at`, nil},
		{"empty ID in file", file(`{"apps":[{"id":"","certificate":"` + secret + `"}]}`), "apps[0]: empty app ID", nil},
		{"null entry", file(`{"apps":[null]}`), "apps[0]: empty app ID", nil},
		{"long ID in file", file(`{"apps":[{"id":"` + strings.Repeat("x", 129) + `","certificate":"c"}]}`), "longer than 128", nil},
		{"non-ASCII ID in file", file(`{"apps":[{"id":"naïve","certificate":"c"}]}`), "outside visible ASCII", nil},
		{"unknown field", file(`{"apps":[{"id":"a","certficate":"` + secret + `"}]}`), `unknown field "certficate"`, nil},
		{"unknown top-level field", file(`{"apps":[],"extra":1}`), `unknown field "extra"`, nil},
		{"numeric certificate", file(`{"apps":[{"id":"a","certificate":31415926535}]}`), `field "apps.certificate" has the wrong type`, nil},
		{"syntax error after certificate", file(`{"apps":[{"id":"a","certificate":"` + secret + `" x}]}`), "invalid JSON at byte", nil},
		{"truncated", file(`{"apps":[{"id":"a","certificate":"` + secret), "unexpected end of JSON", nil},
		{"trailing data", file(`{"apps":[{"id":"a","certificate":"x"}]} {}`), "data after the top-level object", nil},
		{"empty list", file(`{"apps":[]}`), "no apps in the file", nil},
		{"empty file", file(``), "unexpected end of JSON", nil},
		{"not an object", file(`["` + secret + `"]`), "has the wrong type", nil},
		{"API secret in the file", file(`{"apps":[{"id":"a","certificate":"c","apiSecret":"` + apiSecret + `"}]}`), "",
			[]App{{ID: "a", Certificate: "c", APISecret: apiSecret}}},
		{"API secret from the env", map[string]string{EnvAppID: "e", EnvAppCertificate: "c", EnvAppAPISecret: apiSecret}, "",
			[]App{{ID: "e", Certificate: "c", APISecret: apiSecret}}},
		{"env API secret without ID", map[string]string{EnvAppAPISecret: apiSecret}, "SB_APP_ID is not", nil},
		{"short API secret", file(`{"apps":[{"id":"a","certificate":"c","apiSecret":"a9i5ecret"}]}`), "API secret shorter than 16 bytes", nil},
		{"API secret with newline", file(`{"apps":[{"id":"a","certificate":"c","apiSecret":"` + apiSecret + `\n"}]}`), "API secret has leading or trailing white space", nil},
		{"certificate with newline", file(`{"apps":[{"id":"a","certificate":"` + secret + `\n"}]}`), `(ID "a"): certificate has leading or trailing white space`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Load(func(k string) string { return tt.env[k] })
			checkErr(t, err, tt.wantErr)
			if err != nil {
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "31415926535") || strings.Contains(err.Error(), "a9i5ecret") {
					t.Errorf("error %q contains a certificate", err)
				}
				return
			}
			if r.Len() != len(tt.want) {
				t.Fatalf("Len = %d, want %d (%q)", r.Len(), len(tt.want), r.IDs())
			}
			for _, a := range tt.want {
				if got, ok := r.Lookup(a.ID); !ok || got != a {
					t.Errorf("Lookup(%q) = %v, %v; want %v", a.ID, got, ok, a)
				}
			}
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
}
