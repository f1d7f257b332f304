package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/node"
)

// waitTimeout bounds each wait for something on a page: as long as a user
// would wait for a busy server (testenv.WaitTimeout), and more for a browser
// on a busy machine.
const waitTimeout = 2 * testenv.WaitTimeout

// TestDemo_TwoUsersChatMessageAndCall drives the demo page in Chromium as
// three users of the embedded default's shape (NATS, worker and an edge with
// the demo on, in one process): alice and bob log in and see each other
// online, chat in #general with a topic and in a channel bob creates,
// exchange a peer message, and call (an accepted call, a declined one and a
// cancelled one); carol's connection is cut while alice writes to her and to
// the channel, and when she is back she has every message once, in order,
// and nobody saw her leave. Screenshots of the pages are written to outDir.
func TestDemo_TwoUsersChatMessageAndCall(t *testing.T) {
	chromium := findChromium(t)
	srv := startDemo(t)
	proxy := testenv.NewProxy(t, srv.WebSocketURL())
	viaProxy := "http" + strings.TrimSuffix(strings.TrimPrefix(proxy.URL(), "ws"), "/ws") + "/demo/"

	b := startBrowser(t, chromium)
	alice := b.open(t, "alice", srv.DemoURL)
	bob := b.open(t, "bob", srv.DemoURL)
	carol := b.open(t, "carol", viaProxy)
	defer func() {
		for _, p := range []*page{alice, bob, carol} {
			p.screenshot(t, p.name+".png")
		}
	}()

	for _, p := range []*page{alice, bob, carol} {
		p.login(t)
	}
	// Everyone sees the others online, and is in #general.
	for _, p := range []*page{alice, bob, carol} {
		for _, other := range []string{"alice", "bob", "carol"} {
			if other != p.name {
				p.waitFor(t, "sees "+other+" online", exists(`[data-testid=online-user][data-account=%q]`, other))
			}
		}
		p.waitFor(t, "#general has 3 members", `document.querySelector('[data-testid=member-count]')?.dataset.count === "3"`)
	}

	// A topic set by alice reaches bob as a channel attribute.
	alice.click(t, `[data-testid=topic-edit]`)
	alice.typeIn(t, `[data-testid=topic-input]`, "Launch plans")
	alice.click(t, `[data-testid=topic-save]`)
	bob.waitFor(t, "sees the topic", textIs(`[data-testid=channel-topic]`, "Launch plans"))

	// Channel messages both ways, acknowledged to the sender.
	alice.send(t, "hello from alice")
	bob.waitFor(t, "gets alice's channel message", message("#general", "alice", "hello from alice"))
	alice.waitFor(t, "sees her message acknowledged", `[...document.querySelectorAll('[data-testid=message][data-from=alice]')].some(e => e.dataset.status === "sent")`)
	bob.send(t, "hi alice")
	alice.waitFor(t, "gets bob's channel message", message("#general", "bob", "hi alice"))

	// bob creates #launch; alice picks it too; they chat there.
	bob.typeIn(t, `[data-testid=channel-input]`, "launch")
	bob.click(t, `[data-testid=channel-join]`)
	bob.waitFor(t, "is alone in #launch", textIs(`[data-testid=chat-title]`, "#launch")+` && `+textIs(`[data-testid=member-count]`, "1 member"))
	alice.typeIn(t, `[data-testid=channel-input]`, "launch")
	alice.click(t, `[data-testid=channel-join]`)
	bob.waitFor(t, "sees alice join #launch", textIs(`[data-testid=member-count]`, "2 members")+` && `+exists(`[data-testid=member][data-account=alice]`))
	alice.send(t, "ready for launch")
	bob.waitFor(t, "gets it in #launch", message("#launch", "alice", "ready for launch"))

	// A peer message: bob clicks alice in the online list and writes.
	bob.click(t, `[data-testid=online-user][data-account=alice]`)
	bob.waitFor(t, "opens a conversation with alice", textIs(`[data-testid=chat-title]`, "alice"))
	bob.send(t, "psst, alice")
	alice.waitFor(t, "sees an unread peer message", exists(`[data-testid=dm-item][data-account=bob] [data-testid=unread]`))
	alice.click(t, `[data-testid=dm-item][data-account=bob]`)
	alice.waitFor(t, "reads bob's peer message", message("@bob", "bob", "psst, alice"))
	bob.waitFor(t, "sees the peer message delivered", `document.querySelector('[data-testid=message][data-conv="@alice"]')?.dataset.status === "sent"`)

	// A call: invite, ring, accept, end.
	alice.click(t, `[data-testid=call-button]`)
	bob.waitFor(t, "is rung by alice", visible(`[data-testid=incoming-call]`)+` && `+textIs(`[data-testid=incoming-caller]`, "alice"))
	alice.waitFor(t, "hears it ring", callState("ringing"))
	bob.screenshot(t, "bob-incoming-call.png")
	bob.click(t, `[data-testid=call-accept]`)
	alice.waitFor(t, "is in the call", callState("incall"))
	bob.waitFor(t, "is in the call", callState("incall"))
	alice.screenshot(t, "alice-in-call.png")
	alice.click(t, `[data-testid=call-end]`)
	alice.waitFor(t, "logs the ended call", callLog("ended", 1))
	bob.waitFor(t, "logs the call alice ended", callLog("ended", 1))
	bob.waitFor(t, "sees the call over", callState("ended"))

	// A call bob declines.
	alice.click(t, `[data-testid=call-close]`)
	bob.click(t, `[data-testid=call-close]`)
	alice.click(t, `[data-testid=call-button]`)
	bob.waitFor(t, "is rung again", visible(`[data-testid=incoming-call]`))
	bob.click(t, `[data-testid=call-refuse]`)
	alice.waitFor(t, "is declined", callState("refused"))
	alice.waitFor(t, "logs the declined call", callLog("refused", 1))
	bob.waitFor(t, "logs the call he declined", callLog("refused", 1))

	// A call alice cancels while it rings: bob's ringing stops.
	alice.click(t, `[data-testid=call-close]`)
	alice.click(t, `[data-testid=call-button]`)
	bob.waitFor(t, "is rung a third time", visible(`[data-testid=incoming-call]`))
	alice.waitFor(t, "hears it ring", callState("ringing"))
	alice.click(t, `[data-testid=call-end]`)
	alice.waitFor(t, "logs the cancelled call", callLog("cancelled", 1))
	bob.waitFor(t, "stops ringing and logs a missed call", `!`+visible(`[data-testid=incoming-call]`)+` && `+callLog("missed", 1))

	// carol loses her connection; alice writes to her and to #general
	// meanwhile; carol comes back with everything, once and in order.
	alice.click(t, `[data-testid=call-close]`)
	proxy.Refuse(true)
	proxy.Drop()
	carol.waitFor(t, "shows that she is reconnecting", connState("reconnecting")+` && `+visible(`[data-testid=reconnect-banner]`))
	carol.screenshot(t, "carol-reconnecting.png")
	alice.click(t, `[data-testid=channel-item][data-channel=general]`)
	away := []string{"while you were away 1", "while you were away 2", "while you were away 3"}
	for _, m := range away {
		alice.send(t, m)
	}
	alice.waitFor(t, "has the channel messages acknowledged", fmt.Sprintf(`[...document.querySelectorAll('[data-testid=message][data-conv="#general"][data-from=alice]')].filter(e => e.dataset.status === "sent").length === %d`, 1+len(away)))
	alice.click(t, `[data-testid=online-user][data-account=carol]`)
	alice.send(t, "carol, are you there?")
	proxy.Refuse(false)
	carol.waitFor(t, "is back online", connState("online"))
	carol.waitFor(t, "has alice's channel messages", fmt.Sprintf(`%s.filter(t => t.startsWith("while you were away")).join("|") === %q`, texts("#general"), strings.Join(away, "|")))
	carol.waitFor(t, "has alice's peer message", exists(`[data-testid=dm-item][data-account=alice]`))
	carol.click(t, `[data-testid=dm-item][data-account=alice]`)
	carol.waitFor(t, "reads it once", fmt.Sprintf(`%s.join("|") === "carol, are you there?"`, texts("@alice")))
	alice.waitFor(t, "has the peer message acknowledged", `document.querySelector('[data-testid=message][data-conv="@carol"]')?.dataset.status === "sent"`)
	if proxy.Accepts() < 2 {
		t.Errorf("carol's page connected %d times through the proxy; the test meant to cut a connection and see a new one", proxy.Accepts())
	}
	for _, p := range []*page{alice, bob} {
		p.click(t, `[data-testid=channel-item][data-channel=general]`)
		p.waitFor(t, "never saw carol leave", `!`+textsAll(`[data-testid=system-message]`)+`.includes("carol left") && `+exists(`[data-testid=online-user][data-account=carol]`))
		p.waitFor(t, "still counts 3 members", `document.querySelector('[data-testid=member-count]')?.dataset.count === "3"`)
	}
	for _, p := range []*page{alice, bob, carol} {
		if errs := p.exceptions(); len(errs) > 0 {
			t.Errorf("%s's page threw: %s", p.name, strings.Join(errs, "; "))
		}
	}
}

// startDemo runs what `make run` runs, in this process: an embedded NATS, a
// worker and an edge with the demo page on its development app, with the
// tests' short timeouts and an edge listening on a free port.
func startDemo(t *testing.T) *node.Node {
	t.Helper()
	reg, err := apps.NewRegistry(apps.DevApp())
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.Start(context.Background(), node.Config{
		DataDir: t.TempDir(), Memory: true,
		Worker: true, WorkerConfig: testenv.WorkerConfig(), Apps: reg,
		Edge: true, EdgeConfig: testenv.EdgeConfig(), Listen: "127.0.0.1:0",
		Demo: true,
		Log:  testenv.Logger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = n.Close(ctx)
	})
	if n.DemoURL == "" {
		t.Fatal("a node with Demo set has no DemoURL")
	}
	return n
}

// findChromium returns the Chromium to drive. Without one the test skips,
// unless CI is set: CI installs Debian's chromium (.ci/install-browser), so
// there a missing browser is a failure.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("SB_CHROMIUM"), "chromium", "/usr/bin/chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (chromium on PATH, /usr/bin/chromium or SB_CHROMIUM); .ci/install-browser installs Debian's"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI is set, so the browser test may not skip")
	}
	t.Skip(msg + "; skipping the demo page's browser test")
	return ""
}

// outDir is where the screenshots go: $SB_TEST_OUT, or testdata/out here
// (git-ignored).
func outDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SB_TEST_OUT")
	if dir == "" {
		dir = filepath.Join("testdata", "out")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one headless Chromium with a fresh profile; each page is a
// browser context of its own (its own cookies and storage), as a separate
// user's browser would be.
type browser struct{ ctx context.Context }

func startBrowser(t *testing.T, path string) *browser {
	t.Helper()
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Three pages share one browser: none of them is in the
		// background as far as timers and rendering go.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.WindowSize(1280, 800),
		// A loaded machine starts Chromium slowly; 20 s is chromedp's default.
		chromedp.WSURLReadTimeout(waitTimeout),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	quiet := func(string, ...any) {}
	if os.Getenv("SB_TEST_LOG") != "" {
		quiet = t.Logf
	}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(quiet), chromedp.WithLogf(quiet))
	// Cleanups run last-in first-out: the browser stops before its
	// profile directory is removed.
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	return &browser{ctx: ctx}
}

// page is one user's tab.
type page struct {
	name string
	ctx  context.Context

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

func (b *browser) open(t *testing.T, name, url string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &page{name: name, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: open a tab: %v", name, err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.mu.Unlock()
		}
	}()
	p.do(t, "open "+url, chromedp.Navigate(url))
	return p
}

func (p *page) do(t *testing.T, what string, a chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, a); err != nil {
		p.fail(t, what, err)
	}
}

// waitFor waits until the JavaScript expression cond is true in the page.
func (p *page) waitFor(t *testing.T, what, cond string) {
	t.Helper()
	p.do(t, what, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout)))
}

func (p *page) click(t *testing.T, sel string) {
	t.Helper()
	p.do(t, "click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

func (p *page) typeIn(t *testing.T, sel, text string) {
	t.Helper()
	p.do(t, "type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible))
}

func (p *page) login(t *testing.T) {
	t.Helper()
	p.typeIn(t, `[data-testid=login-account]`, p.name)
	p.click(t, `[data-testid=login-submit]`)
	p.waitFor(t, "is online", connState("online")+` && `+visible(`[data-testid=channel-item][data-channel=general]`))
}

// send writes text into the open conversation's composer and sends it, and
// waits until it shows.
func (p *page) send(t *testing.T, text string) {
	t.Helper()
	p.typeIn(t, `[data-testid=composer-input]`, text)
	p.click(t, `[data-testid=composer-send]`)
	p.waitFor(t, "shows what it sent", fmt.Sprintf(`%s.includes(%q)`, textsAll(`[data-testid=message][data-from=`+p.name+`] .msg-text`), text))
}

func (p *page) screenshot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("%s: screenshot: %v", p.name, err)
		return
	}
	path := filepath.Join(outDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Error(err)
		return
	}
	t.Logf("%s's page: %s", p.name, path)
}

// fail ends the test with what the page showed and logged.
func (p *page) fail(t *testing.T, what string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	p.screenshot(t, p.name+"-failed.png")
	p.mu.Lock()
	var logs []string
	for _, m := range p.console {
		logs = append(logs, string(m.Type)+": "+m.Text)
	}
	p.mu.Unlock()
	t.Fatalf("%s %s: %v\npage text:\n%s\nconsole:\n%s", p.name, what, err, body, strings.Join(logs, "\n"))
}

// exceptions are the page's uncaught exceptions so far.
func (p *page) exceptions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.console {
		if m.Type == chromedp.ConsoleException {
			out = append(out, m.Text)
		}
	}
	return out
}

// JavaScript conditions on the page.

func js(v string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func exists(format string, args ...any) string {
	return fmt.Sprintf(`!!document.querySelector(%s)`, js(fmt.Sprintf(format, args...)))
}

func visible(sel string) string {
	return fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.checkVisibility(); })()`, js(sel))
}

func textIs(sel, text string) string {
	return fmt.Sprintf(`document.querySelector(%s)?.textContent === %s`, js(sel), js(text))
}

func textsAll(sel string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%s)].map(e => e.textContent)`, js(sel))
}

// texts are the texts of the messages shown in conversation conv.
func texts(conv string) string {
	return textsAll(`[data-testid=message][data-conv="` + conv + `"] .msg-text`)
}

func message(conv, from, text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%s)].some(e => e.querySelector(".msg-text")?.textContent === %s)`,
		js(`[data-testid=message][data-conv="`+conv+`"][data-from="`+from+`"]`), js(text))
}

func connState(s string) string {
	return fmt.Sprintf(`document.querySelector('[data-testid=conn-state]')?.dataset.state === %s`, js(s))
}

func callState(s string) string {
	return fmt.Sprintf(`document.querySelector('[data-testid=call-panel]')?.dataset.callState === %s`, js(s))
}

func callLog(outcome string, n int) string {
	return fmt.Sprintf(`document.querySelectorAll('[data-testid=call-log][data-outcome=%s]').length === %d`, outcome, n)
}
