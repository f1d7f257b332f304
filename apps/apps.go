// Package apps owns the configured apps: who they are, their certificates,
// whether they allow "_no_need_token", and how a login token is checked
// against them. It loads them from a JSON file and the environment.
//
// A certificate must never reach a log, an error or a client, so App redacts
// it in every printed form (fmt, log/slog, encoding/json).
//
// It imports token and nothing else of Switchboard's own.
package apps

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/switchboard-io/switchboard/token"
)

// NoToken is the token a client sends to log in without one, as the Agora
// SDKs did in test environments. Only apps with AllowNoToken accept it.
const NoToken = "_no_need_token"

// ErrNoTokenNotAllowed is returned by CheckToken for NoToken when the app does
// not allow it. It wraps token.ErrBadSignature, so a caller that maps "any
// token error but expiry" to LOGIN_E_TOKENWRONG (206) does the right thing,
// as Agora did.
var ErrNoTokenNotAllowed = fmt.Errorf("apps: %s is not allowed for this app (%w)", NoToken, token.ErrBadSignature)

// redacted stands in for a certificate wherever an App is printed.
const redacted = "[redacted]"

// App is one configured app. Certificate is the shared secret tokens are
// signed with; an empty Certificate means the app accepts only NoToken.
//
// App prints as {ID:… Certificate:[redacted] AllowNoToken:…} with every fmt
// verb, and shows an empty certificate as empty so an operator can still see
// whether one is set. fmt cannot call methods through unexported fields, so
// keep an App in an exported field (or print it on its own) if it may be
// printed as part of something larger.
type App struct {
	ID           string
	Certificate  string
	AllowNoToken bool
	// APISecret is the bearer secret of the app's server API
	// (docs/server-api.md); empty means the API refuses every request
	// for the app. It is redacted wherever the app is printed, as the
	// certificate is.
	APISecret string
	// Webhook is where the app's events go (docs/webhooks.md); zero for none.
	Webhook Webhook
}

// CheckToken decides whether tok lets account log in to a at now, and returns
// the token's expiry in Unix seconds (token.NeverExpires for none).
//
//   - NoToken is accepted only with AllowNoToken, and never expires;
//     otherwise it fails with ErrNoTokenNotAllowed.
//   - An app without a certificate accepts nothing else: there is no secret to
//     check against, so any other token fails with token.ErrBadSignature.
//   - Otherwise token.Verify decides, with its sentinel errors.
func (a App) CheckToken(account, tok string, now time.Time) (expiry int64, err error) {
	if tok == NoToken {
		if !a.AllowNoToken {
			return 0, ErrNoTokenNotAllowed
		}
		return token.NeverExpires, nil
	}
	if a.Certificate == "" {
		return 0, fmt.Errorf("%w: the app has no certificate and accepts only %s", token.ErrBadSignature, NoToken)
	}
	return token.Verify(tok, a.ID, a.Certificate, account, now)
}

func (a App) shownCertificate() string { return shown(a.Certificate) }

func (a App) shownAPISecret() string { return shown(a.APISecret) }

// shownAPISecretField is the API secret as String (or, quoted, GoString)
// prints it after label: nothing when there is none.
func (a App) shownAPISecretField(label string, quote bool) string {
	if a.APISecret == "" {
		return ""
	}
	if quote {
		return label + strconv.Quote(redacted)
	}
	return label + redacted
}

// shown is a secret as it is printed: redacted, or empty when unset.
func shown(secret string) string {
	if secret == "" {
		return ""
	}
	return redacted
}

// String returns the app with its certificate redacted.
func (a App) String() string {
	return "{ID:" + a.ID + " Certificate:" + a.shownCertificate() +
		" AllowNoToken:" + strconv.FormatBool(a.AllowNoToken) + a.shownAPISecretField(" APISecret:", false) + a.shownWebhook() + "}"
}

// shownWebhook is the webhook as String prints it: nothing when there is none.
func (a App) shownWebhook() string {
	if !a.Webhook.Enabled() {
		return ""
	}
	return " Webhook:" + a.Webhook.String()
}

// GoString is %#v, with the certificate redacted.
func (a App) GoString() string {
	return "apps.App{ID:" + strconv.Quote(a.ID) +
		", Certificate:" + strconv.Quote(a.shownCertificate()) +
		", AllowNoToken:" + strconv.FormatBool(a.AllowNoToken) + a.shownAPISecretField(", APISecret:", true) + a.shownWebhook() + "}"
}

// Format makes every verb redact. Without it, String and GoString would cover
// %v, %s, %q and %#v, but fmt would print the fields themselves for verbs
// such as %d or %x, the certificate among them.
func (a App) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, a.GoString())
	case verb == 'q':
		fmt.Fprint(f, strconv.Quote(a.String()))
	default:
		fmt.Fprint(f, a.String())
	}
}

// LogValue makes log/slog print the app as a group with the certificate
// redacted.
func (a App) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", a.ID),
		slog.String("certificate", a.shownCertificate()),
		slog.Bool("allowNoToken", a.AllowNoToken),
		slog.String("apiSecret", a.shownAPISecret()),
		slog.Any("webhook", a.Webhook),
	)
}

// MarshalJSON redacts too, so an App dumped by a debug or admin endpoint does
// not hand out its certificate. Loading reads its own file type, so this does
// not get in its way; an App does not round-trip through JSON.
func (a App) MarshalJSON() ([]byte, error) {
	return json.Marshal(appJSON{ID: a.ID, Certificate: a.shownCertificate(), AllowNoToken: a.AllowNoToken, APISecret: a.shownAPISecret(), Webhook: a.Webhook})
}
