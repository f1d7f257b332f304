package edge

import (
	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/protocol"
)

// Reasons a login failed, as the "reason" label of
// switchboard_login_failures_total and the "reason" of the log line say
// them (docs/security.md).
const (
	loginBadAccount     = "bad_account"      // the account name breaks the naming rules
	loginBadApp         = "bad_app"          // a malformed app ID
	loginUnknownApp     = "unknown_app"      // no app has that ID
	loginBadToken       = "bad_token"        // the token does not check out
	loginExpired        = "expired"          // the token has expired
	loginNoTokenRefused = "no_token_refused" // _no_need_token for an app that refuses it
	loginUnavailable    = "unavailable"      // no worker answered in time
	loginOther          = "other"
)

// loginFailed counts a failed login by reason and logs it once per
// connection at warn level: the reason, the app ID and the account, never
// the token.
func (c *conn) loginFailed(r *protocol.Request, err error) {
	reason := loginReason(r, err)
	c.srv.Metrics.LoginFailed(reason)
	if c.firstWarning("login") {
		app := r.AppID
		if !protocol.ValidAppID(app) {
			app = "(invalid)"
		}
		account := r.Account
		if !protocol.ValidName(account) {
			account = "(invalid)"
		}
		c.srv.log.Warn("login failed", "reason", reason, "app", app, "account", account, "remote", c.addr)
	}
}

// loginReason classifies a login failure from what the client sent and the
// error the edge or a worker gave.
func loginReason(r *protocol.Request, err error) string {
	e := protocol.AsError(err)
	switch {
	case e.Kind == protocol.KindTimeout || e.Kind == protocol.KindUnavailable:
		return loginUnavailable
	case !protocol.ValidAppID(r.AppID):
		return loginBadApp
	case e.Code == 0 && e.Kind == protocol.KindInvalid && !protocol.ValidName(r.Account):
		return loginBadAccount
	case e.Code == protocol.LoginTokenExpired:
		return loginExpired
	case e.Code == protocol.LoginTokenWrong && e.Kind == protocol.KindNotFound:
		return loginUnknownApp
	case e.Code == protocol.LoginTokenWrong && r.Token == apps.NoToken:
		return loginNoTokenRefused
	case e.Code == protocol.LoginTokenWrong:
		return loginBadToken
	case e.Kind == protocol.KindInvalid || e.Kind == protocol.KindTooLarge:
		return loginBadAccount
	}
	return loginOther
}
