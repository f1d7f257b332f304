package apps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// The environment variables Load reads.
const (
	// EnvAppsFile names a JSON file of apps, see Load.
	EnvAppsFile = "SB_APPS_FILE"
	// EnvAppID, EnvAppCertificate and EnvAppAllowNoToken configure one app
	// without a file, which is all most deployments need.
	EnvAppID           = "SB_APP_ID"
	EnvAppCertificate  = "SB_APP_CERTIFICATE"
	EnvAppAllowNoToken = "SB_APP_ALLOW_NO_TOKEN"
	// EnvAppAPISecret is that app's server API secret (docs/server-api.md).
	EnvAppAPISecret = "SB_APP_API_SECRET"
)

// appsFile is the JSON file's shape.
type appsFile struct {
	Apps []appJSON `json:"apps"`
}

// appJSON is one app in the file. It has App's fields, so that the two
// convert into each other and cannot drift apart, but no methods: App's
// MarshalJSON redacts, and the file must be read in full.
type appJSON struct {
	ID           string  `json:"id"`
	Certificate  string  `json:"certificate"`
	AllowNoToken bool    `json:"allowNoToken"`
	APISecret    string  `json:"apiSecret,omitempty"`
	Webhook      Webhook `json:"webhook"`
}

// Load builds the registry from the environment, read through getenv (pass
// os.Getenv; tests pass a fake):
//
//   - SB_APPS_FILE names a JSON file
//     {"apps":[{"id":"…","certificate":"…","allowNoToken":false,
//     "webhook":{"url":"…","secret":"…","events":["login",…]}}]}.
//     Unknown fields, trailing data and an empty list are errors.
//   - SB_APP_ID, SB_APP_CERTIFICATE and SB_APP_ALLOW_NO_TOKEN (true, false,
//     1 or 0; empty is false) add one more app, SB_APP_WEBHOOK_URL,
//     SB_APP_WEBHOOK_SECRET and SB_APP_WEBHOOK_EVENTS its webhook.
//
// Both may be used; an ID defined twice is an error, as is any app NewRegistry
// would reject. With neither set, Load returns an empty registry and the
// caller decides whether WithDevApp is acceptable. No error holds a
// certificate.
func Load(getenv func(string) string) (*Registry, error) {
	var all []App
	seen := map[string]string{} // ID → where it was defined, for duplicates

	if path := getenv(EnvAppsFile); path != "" {
		entries, err := readFile(path)
		if err != nil {
			return nil, err
		}
		for i, e := range entries {
			a := App(e)
			where := fmt.Sprintf("%s %s apps[%d]", EnvAppsFile, path, i)
			if err := validate(a); err != nil {
				return nil, fmt.Errorf("apps: %s: %w", describe(where, a.ID), err)
			}
			if first, dup := seen[a.ID]; dup {
				return nil, fmt.Errorf("apps: %s: duplicate app ID %q, first at %s", where, a.ID, first)
			}
			seen[a.ID] = where
			all = append(all, a)
		}
	}

	a, ok, err := fromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if ok {
		if err := validate(a); err != nil {
			return nil, fmt.Errorf("apps: %s: %w", describe(EnvAppID, a.ID), err)
		}
		if first, dup := seen[a.ID]; dup {
			return nil, fmt.Errorf("apps: %s: duplicate app ID %q, also at %s", EnvAppID, a.ID, first)
		}
		all = append(all, a)
	}

	return NewRegistry(all...)
}

// fromEnv reads the single app of the SB_APP_* variables; ok is false when
// SB_APP_ID is unset.
func fromEnv(getenv func(string) string) (a App, ok bool, err error) {
	id, cert, allow := getenv(EnvAppID), getenv(EnvAppCertificate), getenv(EnvAppAllowNoToken)
	secret := getenv(EnvAppAPISecret)
	if id == "" {
		if cert != "" || allow != "" || secret != "" || getenv(EnvAppWebhookURL) != "" || getenv(EnvAppWebhookSecret) != "" {
			// Say so rather than ignore it: the operator meant to configure
			// an app and would otherwise find logins failing.
			return App{}, false, fmt.Errorf("apps: %s, %s, %s or %s is set but %s is not", EnvAppCertificate, EnvAppAllowNoToken, EnvAppAPISecret, EnvAppWebhookURL, EnvAppID)
		}
		return App{}, false, nil
	}
	var allowNoToken bool
	switch strings.ToLower(strings.TrimSpace(allow)) {
	case "", "false", "0":
	case "true", "1":
		allowNoToken = true
	default:
		return App{}, false, fmt.Errorf("apps: %s must be true, false, 1 or 0, not %q", EnvAppAllowNoToken, allow)
	}
	wh, err := webhookFromEnv(getenv)
	return App{ID: id, Certificate: cert, AllowNoToken: allowNoToken, APISecret: secret, Webhook: wh}, err == nil, err
}

// readFile decodes the apps file strictly: a misspelt "allowNoToken" must
// fail loudly, not silently leave no-token logins off.
func readFile(path string) ([]appJSON, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		// *PathError names the path and the cause, nothing of the content.
		return nil, fmt.Errorf("apps: %s: %w", EnvAppsFile, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f appsFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("apps: %s %s: %s", EnvAppsFile, path, describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("apps: %s %s: data after the top-level object", EnvAppsFile, path)
	}
	if len(f.Apps) == 0 {
		return nil, fmt.Errorf("apps: %s %s: no apps in the file", EnvAppsFile, path)
	}
	return f.Apps, nil
}

// describeJSONError retells a decoding error without the file's content:
// encoding/json's own messages may quote a value (an UnmarshalTypeError says
// "number 1234"), and that value may be a certificate.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var evs *eventsError
	switch {
	case errors.As(err, &evs):
		return evs.Error()
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong type at byte %d", typ.Field, typ.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of JSON"
	}
	// DisallowUnknownFields reports `json: unknown field "name"` with no
	// error type of its own. A field name is a key the operator wrote, not a
	// value, so it is shown when it is short enough to be one.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok && len(name) <= 66 {
		return "unknown field " + name
	}
	return "invalid JSON"
}
