// Package tokencli holds what the command-line tools that make tokens
// share (cmd/sbtoken, and sbctl token offline): where the certificate comes
// from, and making a token of a version. It never puts the certificate in
// an error.
package tokencli

import (
	"fmt"
	"os"
	"strings"

	"github.com/switchboard-io/switchboard/token"
)

// EnvCert is the environment variable a tool reads the certificate from
// when no file is named. A certificate is never a flag's value: that is
// saved in shell history and shown in the process list.
const EnvCert = "SB_APP_CERTIFICATE"

// Certificate reads the certificate from path if given, else from
// $SB_APP_CERTIFICATE. White space around it is dropped, as a file written
// by an editor or echo ends in a newline.
func Certificate(flagName, path string, getenv func(string) string) (string, error) {
	src := "$" + EnvCert
	cert := getenv(EnvCert)
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", flagName, err)
		}
		src, cert = flagName+" "+path, string(b)
	}
	cert = strings.TrimSpace(cert)
	if cert == "" {
		return "", fmt.Errorf("no certificate: %s is empty (set $%s or pass %s)", src, EnvCert, flagName)
	}
	return cert, nil
}

// Make returns a token of version (token.V1 or token.V2) for account.
func Make(version int, app, cert, account string, expiry int64) (string, error) {
	switch version {
	case token.V1:
		return token.GenerateV1(app, cert, account, expiry), nil
	case token.V2:
		return token.GenerateV2(app, cert, account, expiry), nil
	}
	return "", fmt.Errorf("version must be 1 or 2")
}
