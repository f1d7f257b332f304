// Command sbtoken prints a SignalingToken for an app and account, or checks
// one, for operators and tests. It only wires flags to package token.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/switchboard-io/switchboard/internal/tokencli"
	"github.com/switchboard-io/switchboard/token"
)

// Exit codes: a script can tell "the token is bad" from "you called me wrong".
const (
	exitOK      = 0
	exitInvalid = 1 // -verify: the token is not valid
	exitUsage   = 2
)

const envCert = tokencli.EnvCert

const usageText = `Usage:
  sbtoken -app ID -account NAME [-ttl 24h] [-version 1|2] [-cert-file PATH]
  sbtoken -app ID -account NAME -verify TOKEN [-cert-file PATH]

Prints a SignalingToken that lets NAME log in to app ID, or with -verify
says whether TOKEN is valid for them and when it expires.

The app certificate comes from the environment variable SB_APP_CERTIFICATE
or from the file named by -cert-file (surrounding white space is ignored),
never from a flag value: a flag's value is saved in shell history and can
be read by any local user in the process list, and the certificate signs
every login to the app.

Version 1 is Agora's MD5 format, for clients that need it; version 2
(HMAC-SHA256) is stronger and recommended. -ttl 0 makes a token that never
expires. With -verify, -ttl and -version are ignored: a token names its own
version and expiry.

Exit status: 0 done or token valid, 1 token invalid, 2 usage error.

Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the whole program, minus the process: tests call it in-process.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return runAt(args, getenv, stdout, stderr, time.Now())
}

func runAt(args []string, getenv func(string) string, stdout, stderr io.Writer, now time.Time) int {
	fs := flag.NewFlagSet("sbtoken", flag.ContinueOnError)
	fs.SetOutput(stderr)
	app := fs.String("app", "", "app ID (required)")
	account := fs.String("account", "", "account the token is for (required)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid; 0 means it never expires")
	version := fs.Int("version", token.V1, "token format, 1 (MD5, compatible) or 2 (HMAC-SHA256, recommended)")
	certFile := fs.String("cert-file", "", "read the app certificate from this file instead of $"+envCert)
	verify := fs.String("verify", "", "check this token instead of making one")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage // flag has printed the error and the usage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sbtoken: "+format+"\n", a...)
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q (flags go before arguments; see -h)", fs.Arg(0))
	}
	if *app == "" || *account == "" {
		return usageErr("-app and -account are required")
	}

	cert, err := certificate(*certFile, getenv)
	if err != nil {
		return usageErr("%v", err)
	}

	if *verify != "" {
		return check(*verify, *app, cert, *account, now, stdout)
	}

	if *ttl < 0 || (*ttl > 0 && *ttl < time.Second) {
		return usageErr("-ttl must be 0 (never expires) or at least 1s")
	}
	expiry := token.NeverExpires
	if *ttl > 0 {
		expiry = now.Add(*ttl).Unix()
	}
	tok, err := tokencli.Make(*version, *app, cert, *account, expiry)
	if err != nil {
		return usageErr("-%v", err)
	}
	fmt.Fprintln(stdout, tok)
	return exitOK
}

// certificate reads the certificate from -cert-file or the environment.
func certificate(path string, getenv func(string) string) (string, error) {
	return tokencli.Certificate("-cert-file", path, getenv)
}

// check prints whether tok is valid. Its messages come from package token,
// which never puts the token or the certificate in an error.
func check(tok, app, cert, account string, now time.Time, stdout io.Writer) int {
	expiry, err := token.Verify(tok, app, cert, account, now)
	switch {
	case err == nil && expiry == token.NeverExpires:
		fmt.Fprintln(stdout, "valid: never expires")
	case err == nil:
		fmt.Fprintf(stdout, "valid: expires %s (in %s)\n", when(expiry), time.Unix(expiry, 0).Sub(now).Round(time.Second))
	case errors.Is(err, token.ErrExpired):
		fmt.Fprintf(stdout, "invalid: expired %s (%s ago)\n", when(expiry), now.Sub(time.Unix(expiry, 0)).Round(time.Second))
	default:
		fmt.Fprintf(stdout, "invalid: %v\n", err)
	}
	if err != nil {
		return exitInvalid
	}
	return exitOK
}

func when(unix int64) string {
	return fmt.Sprintf("at %s (Unix %d)", time.Unix(unix, 0).UTC().Format(time.RFC3339), unix)
}
