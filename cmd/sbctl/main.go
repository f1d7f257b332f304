// Command sbctl is the operator's tool over Switchboard's server API
// (docs/server-api.md): who is online, a channel's members and attributes,
// a user's attributes, messages, kicks, tokens and a webhook test. It only
// turns arguments into API requests and answers into tables or JSON.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboard-io/switchboard/api"
	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/internal/tokencli"
	"github.com/switchboard-io/switchboard/token"
)

// Exit codes scripts can test.
const (
	exitOK       = 0
	exitFailed   = 1 // the request failed: refused, a server error, or no answer
	exitUsage    = 2
	exitNotFound = 3 // offline: a message not delivered, a kick of no session, no webhooks
)

// The environment sbctl reads; flags win over it.
const (
	envURL    = "SBCTL_URL"
	envApp    = "SBCTL_APP"
	envSecret = "SBCTL_SECRET"
)

// defaultURL is where make run serves the API.
const defaultURL = "http://127.0.0.1:7402"

const usageText = `Usage: sbctl [flags] COMMAND [ARGS]

Commands:
  online ACCOUNT...                  whether each account is online
  members CHANNEL [-limit N] [-offset N]
                                     a channel's member count and members
  attrs CHANNEL                      a channel's attributes
  user-attrs ACCOUNT                 an account's user attributes
  send -to ACCOUNT [-from A] MESSAGE a peer message (exit 3 when offline)
  publish [-from A] CHANNEL MESSAGE  a channel message, without joining
  kick [-reason TEXT] ACCOUNT        end a session (exit 3 when not online)
  token [-ttl 24h] [-version 1|2] [-cert-file PATH] ACCOUNT
                                     a SignalingToken; with -cert-file, made
                                     here without the server
  webhook test                       publish a test event to the app's webhooks

The server, app and secret come from flags or the environment:
  -url     or $SBCTL_URL     (default ` + defaultURL + `, where make run serves it)
  -app     or $SBCTL_APP     (default ` + apps.DevAppID + `)
  -secret-file PATH or $SBCTL_SECRET (the development app's public secret
                             when the app is ` + apps.DevAppID + `)
The secret is never a flag's value: that is saved in shell history and shown
in the process list.

Output is an aligned table; -o json prints the API's JSON answer instead.
Exit status: 0 done, 1 the request failed, 2 usage error, 3 offline or not
found (a message not delivered, a kick of an account not online, an app
without webhooks).

Flags (before or after the command):
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// opts are the flags every command takes.
type opts struct {
	url, app, secretFile, output string
	timeout                      time.Duration
}

func (o *opts) register(fs *flag.FlagSet) {
	fs.StringVar(&o.url, "url", o.url, "the server API's base URL ($"+envURL+")")
	fs.StringVar(&o.app, "app", o.app, "the app ID ($"+envApp+")")
	fs.StringVar(&o.secretFile, "secret-file", o.secretFile, "read the API secret from this file instead of $"+envSecret)
	fs.StringVar(&o.output, "o", o.output, "output: table or json")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "how long to wait for the server")
}

// cli is one run: its options, environment and outputs.
type cli struct {
	opts
	getenv         func(string) string
	stdout, stderr io.Writer
}

func (c *cli) usageErr(format string, a ...any) int {
	fmt.Fprintf(c.stderr, "sbctl: "+format+"\n", a...)
	return exitUsage
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c := &cli{getenv: getenv, stdout: stdout, stderr: stderr}
	c.opts = opts{url: or(getenv(envURL), defaultURL), app: or(getenv(envApp), apps.DevAppID), output: "table", timeout: 60 * time.Second}
	fs := c.flags("sbctl")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	if c.output != "table" && c.output != "json" {
		return c.usageErr("-o must be table or json")
	}
	switch cmd {
	case "online":
		return c.online(rest)
	case "members":
		return c.members(rest)
	case "attrs":
		return c.attrs(rest, "channels", "channel")
	case "user-attrs":
		return c.attrs(rest, "users", "account")
	case "send":
		return c.send(rest)
	case "publish":
		return c.publish(rest)
	case "kick":
		return c.kick(rest)
	case "token":
		return c.token(rest)
	case "webhook":
		return c.webhook(rest)
	case "help":
		fs.Usage()
		return exitOK
	}
	return c.usageErr("unknown command %q (see sbctl -h)", cmd)
}

// flags is a flag set with the common flags, printing the usage on -h.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	c.register(fs)
	fs.Usage = func() {
		fmt.Fprint(c.stderr, usageText)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses a command's flags (the common ones too), before or
// after its arguments ("--" ends the flags), and checks the argument
// count: exactly n, or at least n when more is set. The int is an exit
// code, or -1 to go on.
func (c *cli) parseArgs(fs *flag.FlagSet, args []string, n int, more bool, what string) ([]string, int) {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && !isBool(f) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	if err := fs.Parse(flags); err != nil {
		return nil, parseExit(err)
	}
	if len(pos) < n || (!more && len(pos) > n) {
		return nil, c.usageErr("%s: want %s", fs.Name(), what)
	}
	return pos, -1
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func parseExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage // flag has printed the error and the usage
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// secret is the API secret: -secret-file, $SBCTL_SECRET, or the
// development app's public one.
func (c *cli) secret() (string, error) {
	if c.secretFile != "" {
		b, err := os.ReadFile(c.secretFile)
		if err != nil {
			return "", fmt.Errorf("reading -secret-file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if s := c.getenv(envSecret); s != "" {
		return s, nil
	}
	if c.app == apps.DevAppID {
		return apps.DevAPISecret, nil
	}
	return "", fmt.Errorf("no API secret: set $%s or pass -secret-file", envSecret)
}

// apiError is an answer other than 2xx.
type apiError struct {
	status int
	Code   int    `json:"code"`
	Error  string `json:"error"`
}

// call makes one request and decodes the answer into out; raw is the
// answer's body, for -o json.
func (c *cli) call(method, path string, body, out any) (raw []byte, aerr *apiError, err error) {
	secret, err := c.secret()
	if err != nil {
		return nil, nil, err
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, nil, err
		}
		rd = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	u := strings.TrimSuffix(c.url, "/") + "/api/v1/apps/" + url.PathEscape(c.app) + path
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err = io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode/100 != 2 {
		e := &apiError{status: resp.StatusCode}
		if json.Unmarshal(raw, e) != nil || e.Error == "" {
			e.Error = http.StatusText(resp.StatusCode)
		}
		return raw, e, nil
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return raw, nil, fmt.Errorf("the server's answer is not what sbctl expects: %w", err)
		}
	}
	return raw, nil, nil
}

// do calls the API and prints the answer: JSON as the API gave it with
// -o json, else show(out). A 404 exits 3, any other failure 1.
func (c *cli) do(method, path string, body, out any, show func() int) int {
	raw, aerr, err := c.call(method, path, body, out)
	if err != nil {
		fmt.Fprintf(c.stderr, "sbctl: %v\n", err)
		return exitFailed
	}
	if aerr != nil {
		if c.output == "json" {
			c.stdout.Write(raw)
		}
		msg := fmt.Sprintf("sbctl: %d %s", aerr.status, aerr.Error)
		if aerr.Code != 0 {
			msg += fmt.Sprintf(" (code %d)", aerr.Code)
		}
		fmt.Fprintln(c.stderr, msg)
		if aerr.status == http.StatusNotFound {
			return exitNotFound
		}
		return exitFailed
	}
	if c.output == "json" {
		c.stdout.Write(raw)
		return exitOK
	}
	return show()
}

// table prints rows aligned under a header.
func (c *cli) table(header []string, rows [][]string) {
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func (c *cli) online(args []string) int {
	fs := c.flags("online")
	accounts, code := c.parseArgs(fs, args, 1, true, "ACCOUNT...")
	if code >= 0 {
		return code
	}
	var out api.OnlineResponse
	return c.do("POST", "/online", api.OnlineRequest{Accounts: accounts}, &out, func() int {
		rows := make([][]string, 0, len(out.Accounts))
		for _, a := range out.Accounts {
			rows = append(rows, []string{a.Account, yesNo(a.Online)})
		}
		c.table([]string{"ACCOUNT", "ONLINE"}, rows)
		return exitOK
	})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (c *cli) members(args []string) int {
	fs := c.flags("members")
	limit := fs.Int("limit", api.DefaultPage, "page size (at most 1000)")
	offset := fs.Int("offset", 0, "members to skip")
	rest, code := c.parseArgs(fs, args, 1, false, "CHANNEL")
	if code >= 0 {
		return code
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}, "offset": {strconv.Itoa(*offset)}}
	var out api.MembersResponse
	return c.do("GET", "/channels/"+url.PathEscape(rest[0])+"/members?"+q.Encode(), nil, &out, func() int {
		rows := make([][]string, 0, len(out.Members))
		for i, m := range out.Members {
			rows = append(rows, []string{strconv.Itoa(out.Offset + i + 1), m})
		}
		c.table([]string{"#", "MEMBER"}, rows)
		fmt.Fprintf(c.stdout, "%d of %d members of %s\n", len(out.Members), out.Count, out.Channel)
		return exitOK
	})
}

func (c *cli) attrs(args []string, kind, what string) int {
	fs := c.flags(map[string]string{"channels": "attrs", "users": "user-attrs"}[kind])
	rest, code := c.parseArgs(fs, args, 1, false, strings.ToUpper(what))
	if code >= 0 {
		return code
	}
	var out api.AttrsResponse
	return c.do("GET", "/"+kind+"/"+url.PathEscape(rest[0])+"/attrs", nil, &out, func() int {
		names := make([]string, 0, len(out.Attrs))
		for k := range out.Attrs {
			names = append(names, k)
		}
		sort.Strings(names)
		rows := make([][]string, 0, len(names))
		for _, k := range names {
			rows = append(rows, []string{k, out.Attrs[k]})
		}
		c.table([]string{"NAME", "VALUE"}, rows)
		return exitOK
	})
}

// result prints a message's or kick's result; offline exits 3.
func (c *cli) result(out *api.MessageResponse) func() int {
	return func() int {
		fmt.Fprintln(c.stdout, out.Result)
		if out.Result == api.ResultOffline {
			return exitNotFound
		}
		return exitOK
	}
}

func (c *cli) send(args []string) int {
	fs := c.flags("send")
	to := fs.String("to", "", "the receiving account (required)")
	from := fs.String("from", "", "the sending account (default the system account "+api.SystemAccount+")")
	rest, code := c.parseArgs(fs, args, 1, false, "-to ACCOUNT MESSAGE")
	if code >= 0 {
		return code
	}
	if *to == "" {
		return c.usageErr("send: -to ACCOUNT is required")
	}
	var out api.MessageResponse
	rc := c.do("POST", "/users/"+url.PathEscape(*to)+"/messages", api.MessageRequest{From: *from, Msg: rest[0]}, &out, c.result(&out))
	if c.output == "json" && out.Result == api.ResultOffline {
		return exitNotFound
	}
	return rc
}

func (c *cli) publish(args []string) int {
	fs := c.flags("publish")
	from := fs.String("from", "", "the sending account (default the system account "+api.SystemAccount+")")
	rest, code := c.parseArgs(fs, args, 2, false, "CHANNEL MESSAGE")
	if code >= 0 {
		return code
	}
	var out api.MessageResponse
	return c.do("POST", "/channels/"+url.PathEscape(rest[0])+"/messages", api.MessageRequest{From: *from, Msg: rest[1]}, &out, c.result(&out))
}

func (c *cli) kick(args []string) int {
	fs := c.flags("kick")
	reason := fs.String("reason", "", "why; the client sees it in onError")
	rest, code := c.parseArgs(fs, args, 1, false, "ACCOUNT")
	if code >= 0 {
		return code
	}
	var out api.MessageResponse
	return c.do("POST", "/users/"+url.PathEscape(rest[0])+"/kick", api.KickRequest{Reason: *reason}, &out, c.result(&out))
}

func (c *cli) token(args []string) int {
	fs := c.flags("token")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid; 0 never expires")
	version := fs.Int("version", token.V1, "1 (Agora's MD5, compatible) or 2 (HMAC-SHA256, recommended)")
	certFile := fs.String("cert-file", "", "make the token here with the certificate in this file, without the server")
	rest, code := c.parseArgs(fs, args, 1, false, "ACCOUNT")
	if code >= 0 {
		return code
	}
	if *ttl < 0 || (*ttl > 0 && *ttl < time.Second) {
		return c.usageErr("-ttl must be 0 (never expires) or at least 1s")
	}
	if *version != token.V1 && *version != token.V2 {
		return c.usageErr("-version must be 1 or 2")
	}
	account := rest[0]
	if *certFile != "" {
		return c.offlineToken(account, *certFile, *ttl, *version)
	}
	secs := int64(ttl.Seconds())
	var out api.TokenResponse
	return c.do("POST", "/users/"+url.PathEscape(account)+"/token", api.TokenRequest{TTL: &secs, Version: *version}, &out, func() int {
		fmt.Fprintln(c.stdout, out.Token)
		return exitOK
	})
}

// offlineToken makes a token as sbtoken does, from a certificate file.
func (c *cli) offlineToken(account, certFile string, ttl time.Duration, version int) int {
	cert, err := tokencli.Certificate("-cert-file", certFile, c.getenv)
	if err != nil {
		return c.usageErr("%v", err)
	}
	expiry := token.NeverExpires
	if ttl > 0 {
		expiry = time.Now().Add(ttl).Unix()
	}
	tok, err := tokencli.Make(version, c.app, cert, account, expiry)
	if err != nil {
		return c.usageErr("-%v", err)
	}
	if c.output == "json" {
		_ = json.NewEncoder(c.stdout).Encode(api.TokenResponse{Account: account, Token: tok, Expires: expiry})
		return exitOK
	}
	fmt.Fprintln(c.stdout, tok)
	return exitOK
}

func (c *cli) webhook(args []string) int {
	fs := c.flags("webhook")
	rest, code := c.parseArgs(fs, args, 1, false, "test")
	if code >= 0 {
		return code
	}
	if rest[0] != "test" {
		return c.usageErr("webhook: the only subcommand is test")
	}
	var out api.WebhookTestResponse
	return c.do("POST", "/webhooks/test", nil, &out, func() int {
		fmt.Fprintf(c.stdout, "published test event %s\n", out.EventID)
		return exitOK
	})
}
