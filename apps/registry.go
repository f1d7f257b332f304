package apps

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard-io/switchboard/protocol"
)

// MaxIDLen is the longest app ID accepted, in bytes: the protocol's, so that
// every configured app can be named by a client.
const MaxIDLen = protocol.MaxAppIDBytes

// DevAppID is the ID of the development app, see DevApp.
const DevAppID = "switchboard-dev"

// DevApp is the development app: no certificate, logins with NoToken only.
// It lets a fresh checkout run with no configuration; WithDevApp adds it.
// Never use it where anyone but you can reach the server.
func DevApp() App { return App{ID: DevAppID, AllowNoToken: true, APISecret: DevAPISecret} }

// DevAPISecret is the development app's server API secret. It is public:
// the development default listens on loopback only.
const DevAPISecret = "switchboard-dev-secret"

// Registry is a fixed set of apps, keyed by ID. It is not changed after it is
// built, so it is safe for concurrent use.
type Registry struct {
	byID map[string]App
	ids  []string // sorted
}

// NewRegistry builds a registry from apps, checking each as Load does:
// IDs valid and unique, and every app able to accept some login.
func NewRegistry(apps ...App) (*Registry, error) {
	r := &Registry{byID: make(map[string]App, len(apps))}
	for i, a := range apps {
		if err := validate(a); err != nil {
			return nil, fmt.Errorf("apps: %s: %w", describe(fmt.Sprintf("app %d", i), a.ID), err)
		}
		if _, dup := r.byID[a.ID]; dup {
			return nil, fmt.Errorf("apps: duplicate app ID %q", a.ID)
		}
		r.byID[a.ID] = a
		r.ids = append(r.ids, a.ID)
	}
	slices.Sort(r.ids)
	return r, nil
}

// WithDevApp returns a registry holding r's apps and DevApp. If r already has
// an app with DevAppID, r's wins. r may be nil. r itself is not changed.
func WithDevApp(r *Registry) *Registry {
	all := []App{DevApp()}
	if r != nil {
		if _, ok := r.byID[DevAppID]; ok {
			return r
		}
		for _, id := range r.ids {
			all = append(all, r.byID[id])
		}
	}
	out, err := NewRegistry(all...)
	if err != nil {
		// r's apps were validated when r was built and DevApp is valid and
		// not among them, so this cannot happen.
		panic("apps: WithDevApp: " + err.Error())
	}
	return out
}

// Lookup returns the app with the given ID.
func (r *Registry) Lookup(id string) (App, bool) {
	if r == nil {
		return App{}, false
	}
	a, ok := r.byID[id]
	return a, ok
}

// IDs returns the IDs of all apps, sorted. The slice is the caller's.
func (r *Registry) IDs() []string {
	if r == nil {
		return nil
	}
	return slices.Clone(r.ids)
}

// Len is the number of apps; 0 means nothing was configured.
func (r *Registry) Len() int {
	if r == nil {
		return 0
	}
	return len(r.ids)
}

// validate checks one app. Its messages never show the certificate, nor the
// ID: describe adds that, when it is safe to print.
func validate(a App) error {
	if err := validateID(a.ID); err != nil {
		return err
	}
	if strings.TrimSpace(a.Certificate) != a.Certificate {
		// Almost always a newline from a file or an env file, which would
		// make every token fail with no clue why.
		return errors.New("certificate has leading or trailing white space")
	}
	if strings.TrimSpace(a.APISecret) != a.APISecret {
		return errors.New("API secret has leading or trailing white space")
	}
	if a.APISecret != "" && len(a.APISecret) < MinAPISecret {
		return fmt.Errorf("API secret shorter than %d bytes", MinAPISecret)
	}
	if a.Certificate == "" && !a.AllowNoToken {
		return fmt.Errorf("no certificate and %s not allowed, so no one could log in", NoToken)
	}
	return validateWebhook(a.Webhook)
}

// MinAPISecret is the shortest API secret an app may have: a secret that
// guards every account of the app must not be guessable.
const MinAPISecret = 16

var errEmptyID = errors.New("empty app ID")

// validateID accepts exactly the IDs that protocol.ValidAppID accepts, the
// one rule for app IDs wherever they arrive (visible ASCII, 0x21 to 0x7E, at
// most MaxIDLen bytes): they appear in tokens, logs, URLs and NATS subjects,
// and a space or control byte there is a mistake. The error says which part
// of the rule an ID breaks.
func validateID(id string) error {
	if protocol.ValidAppID(id) {
		return nil
	}
	if id == "" {
		return errEmptyID
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("app ID longer than %d bytes", MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return fmt.Errorf("app ID has a character outside visible ASCII at byte %d", i)
		}
	}
	return errors.New("app ID is not valid")
}

// describe names an app in an error: by its quoted ID when that is valid,
// else by where it came from, since an invalid ID may be huge or binary.
func describe(where, id string) string {
	if validateID(id) != nil {
		return where
	}
	return fmt.Sprintf("%s (ID %q)", where, id)
}
