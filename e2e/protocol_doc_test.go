package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// protocolDoc is the wire protocol's documentation, which these tests keep
// true to the server.
const protocolDoc = "../docs/protocol.md"

// placeholder in a documented frame stands for a value that differs every
// time (the session secret): it matches any non-empty string, and a request
// that has it as its session sends the secret its user's login returned.
const placeholder = "…"

// transcriptFrameWait is how long a documented frame may take to arrive:
// far longer than any answer takes, even on a busy machine, because a
// missing frame fails the test however long it waits.
const transcriptFrameWait = 30 * time.Second

// TestProtocolDoc_CompleteSessionIsWhatTheServerSays replays the section "A
// complete session" of docs/protocol.md against a real edge and worker: it
// sends each client frame the doc shows, and checks that each frame the doc
// says a client receives is, field for field, the next frame that client
// receives, and that every count the doc gives (ack, resume, "# N") is the
// count of frames the client really received.
func TestProtocolDoc_CompleteSessionIsWhatTheServerSays(t *testing.T) {
	t.Parallel()
	steps := parseTranscript(t, section(t, readDoc(t, protocolDoc), "A complete session"))
	if len(steps) == 0 {
		t.Fatal("the section has no transcript")
	}
	def := edge.DefaultConfig()
	env := testenv.Start(t, testenv.Options{Edge: func(c *edge.Config) {
		// What `make run` sends, since the doc shows its hello; and its
		// patience for acknowledgements, since a busy machine may be slow
		// to read and acknowledge.
		c.Ping, c.MessageTimeout = def.Ping, def.MessageTimeout
	}})
	clients := map[string]*docClient{}
	for _, s := range steps {
		c := clients[s.who]
		if c == nil {
			c = &docClient{name: s.who}
			clients[s.who] = c
		}
		switch s.kind {
		case stepOpen:
			c.open(t, env.URL(0), s)
		case stepDrop:
			c.drop(t, s)
		case stepSend:
			c.send(t, s)
		case stepReceive:
			c.receive(t, s)
		}
	}
	// Every frame the server sent is in the doc: a request that every state
	// answers at once comes back as the very next frame on each connection
	// still open.
	for _, c := range clients {
		if c.conn == nil {
			continue
		}
		c.probe(t)
	}
}

type stepKind int

const (
	stepOpen stepKind = iota
	stepDrop
	stepSend
	stepReceive
)

// step is one line of a transcript.
type step struct {
	line  int // in the doc, for messages
	text  string
	who   string
	kind  stepKind
	frame map[string]any // stepSend, stepReceive
	count int            // the line's "# N", or -1
}

var transcriptLine = regexp.MustCompile(`^([a-z]+)\s+(→|←|✕)\s*(.*)$`)

// parseTranscript reads the fenced blocks of a section. Every line of them
// must be a step: a line the test did not understand would be a line it
// does not check.
func parseTranscript(t *testing.T, sec docSection) []step {
	t.Helper()
	var steps []step
	for _, b := range sec.blocks {
		for i, text := range b.lines {
			line := b.start + i
			if strings.TrimSpace(text) == "" {
				continue
			}
			m := transcriptLine.FindStringSubmatch(text)
			if m == nil {
				t.Fatalf("%s:%d: not a transcript line: %s", protocolDoc, line, text)
			}
			s := step{line: line, text: text, who: m[1], count: -1}
			rest := m[3]
			switch {
			case m[2] == "✕":
				s.kind = stepDrop
			case m[2] == "→" && strings.HasPrefix(rest, "(opens "):
				s.kind = stepOpen
			default:
				s.kind = stepReceive
				if m[2] == "→" {
					s.kind = stepSend
				}
				dec := json.NewDecoder(strings.NewReader(rest))
				if err := dec.Decode(&s.frame); err != nil {
					t.Fatalf("%s:%d: not a JSON object: %v", protocolDoc, line, err)
				}
				tail := strings.TrimSpace(rest[dec.InputOffset():])
				if tail != "" {
					n, ok := strings.CutPrefix(tail, "# ")
					count, err := strconv.Atoi(n)
					if !ok || err != nil {
						t.Fatalf("%s:%d: after the frame only a count (# N) may follow, not %q", protocolDoc, line, tail)
					}
					s.count = count
				}
			}
			steps = append(steps, s)
		}
	}
	return steps
}

// docClient is one user of a transcript, over a raw WebSocket.
type docClient struct {
	name    string
	conn    *websocket.Conn
	frames  chan []byte // what the connection's reader read, in order
	session string      // the secret of the last onLoginSuccess
	count   int         // counted frames received in the session
}

// uncounted are the control frames a client does not count.
var uncounted = []string{protocol.EvHello, protocol.EvLoginSuccess, protocol.EvReconnected, protocol.EvResumeFailed, protocol.EvMove}

func (c *docClient) open(t *testing.T, url string, s step) {
	t.Helper()
	if c.conn != nil {
		t.Fatalf("%s:%d: %s opens a connection while one is open", protocolDoc, s.line, c.name)
	}
	d := websocket.Dialer{Subprotocols: []string{protocol.Subprotocol}, HandshakeTimeout: transcriptFrameWait}
	ws, resp, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("%s:%d: %s: %v", protocolDoc, s.line, s.text, err)
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != protocol.Subprotocol {
		t.Fatalf("%s:%d: the edge picked subprotocol %q, want %q", protocolDoc, s.line, got, protocol.Subprotocol)
	}
	t.Cleanup(func() { ws.Close() })
	frames := make(chan []byte, 64)
	go func() {
		defer close(frames)
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			frames <- b
		}
	}()
	c.conn, c.frames = ws, frames
}

func (c *docClient) drop(t *testing.T, s step) {
	t.Helper()
	if c.conn == nil {
		t.Fatalf("%s:%d: %s has no connection to drop", protocolDoc, s.line, c.name)
	}
	// A lost connection sends nothing more: no close frame, no logout.
	_ = c.conn.UnderlyingConn().Close()
	c.conn = nil
}

func (c *docClient) send(t *testing.T, s step) {
	t.Helper()
	if c.conn == nil {
		t.Fatalf("%s:%d: %s sends without a connection", protocolDoc, s.line, c.name)
	}
	frame := maps.Clone(s.frame)
	if frame["session"] == placeholder {
		frame["session"] = c.session
	}
	b, err := json.Marshal(frame)
	if err != nil {
		t.Fatal(err)
	}
	// The doc shows requests as the protocol defines them: no field that
	// protocol.Request does not have.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var req protocol.Request
	if err := dec.Decode(&req); err != nil {
		t.Fatalf("%s:%d: not a request of the protocol: %v", protocolDoc, s.line, err)
	}
	switch req.Op {
	case protocol.OpAck, protocol.OpResume:
		if int(req.N) != c.count {
			t.Fatalf("%s:%d: %s sends n=%d, but its client has received %d counted frames", protocolDoc, s.line, req.Op, req.N, c.count)
		}
	case protocol.OpLogin, protocol.OpLogin2:
		c.count = 0
	}
	if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatalf("%s:%d: %s: %v", protocolDoc, s.line, c.name, err)
	}
}

func (c *docClient) next(t *testing.T, line int) map[string]any {
	t.Helper()
	select {
	case b, ok := <-c.frames:
		if !ok {
			t.Fatalf("%s:%d: %s's connection closed", protocolDoc, line, c.name)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s:%d: %s received a frame that is not a JSON object: %v", protocolDoc, line, c.name, err)
		}
		return got
	case <-time.After(transcriptFrameWait):
		t.Fatalf("%s:%d: %s received nothing within %v", protocolDoc, line, c.name, transcriptFrameWait)
	}
	return nil
}

func (c *docClient) receive(t *testing.T, s step) {
	t.Helper()
	if c.conn == nil {
		t.Fatalf("%s:%d: %s receives without a connection", protocolDoc, s.line, c.name)
	}
	got := c.next(t, s.line)
	if diff := frameDiff(s.frame, got); diff != "" {
		gb, _ := json.Marshal(got)
		t.Fatalf("%s:%d: %s received\n\t%s\nthe doc says\n\t%s\n%s", protocolDoc, s.line, c.name, gb, s.text, diff)
	}
	ev, _ := got["ev"].(string)
	if ev == protocol.EvLoginSuccess {
		c.session, _ = got["session"].(string)
	}
	if !slices.Contains(uncounted, ev) {
		c.count++
	}
	if s.count >= 0 && s.count != c.count {
		t.Fatalf("%s:%d: the doc numbers this frame %d; it is %s's counted frame %d", protocolDoc, s.line, s.count, c.name, c.count)
	}
}

// probe checks that nothing the doc leaves out is waiting on the connection:
// an unknown op is answered at once in every state, so its answer must be
// the next frame.
func (c *docClient) probe(t *testing.T) {
	t.Helper()
	const op = "transcriptEnds"
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(`{"op":"`+op+`"}`)); err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	got := c.next(t, 0)
	if got["ev"] != protocol.EvError || got["name"] != op {
		gb, _ := json.Marshal(got)
		t.Fatalf("after the transcript, %s received %s, which the doc does not show", c.name, gb)
	}
}

// frameDiff says how got differs from the documented frame want, or "" if it
// does not: the same fields with the same values, placeholder matching any
// non-empty string.
func frameDiff(want, got map[string]any) string {
	var b strings.Builder
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			fmt.Fprintf(&b, "\tfield %q is missing\n", k)
		case !valueMatches(w, g):
			fmt.Fprintf(&b, "\tfield %q is %v, not %v\n", k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			fmt.Fprintf(&b, "\tfield %q (%v) is not in the doc\n", k, g)
		}
	}
	return b.String()
}

func valueMatches(want, got any) bool {
	if want == placeholder {
		s, ok := got.(string)
		return ok && s != ""
	}
	return reflect.DeepEqual(want, got)
}

// docSection is one "## " section of a Markdown file.
type docSection struct {
	lines  []string // every line of the section
	start  int      // line number of lines[0]
	blocks []fencedBlock
}

// fencedBlock is the inside of one ``` block.
type fencedBlock struct {
	lines []string
	start int // line number of lines[0]
}

func readDoc(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// section returns the "## title" section of a document's lines, up to the
// next "## " heading, and the fenced blocks in it.
func section(t *testing.T, lines []string, title string) docSection {
	t.Helper()
	start := slices.Index(lines, "## "+title)
	if start < 0 {
		t.Fatalf("no section %q", title)
	}
	end := len(lines)
	for i := start + 1; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "## ") {
			end = i
			break
		}
	}
	sec := docSection{lines: lines[start:end], start: start + 1}
	var cur *fencedBlock
	for i := start + 1; i < end; i++ {
		if strings.HasPrefix(lines[i], "```") {
			if cur == nil {
				cur = &fencedBlock{start: i + 2}
			} else {
				sec.blocks = append(sec.blocks, *cur)
				cur = nil
			}
			continue
		}
		if cur != nil {
			cur.lines = append(cur.lines, lines[i])
		}
	}
	if cur != nil {
		t.Fatalf("section %q: a fenced block is not closed", title)
	}
	return sec
}

// TestProtocolDoc_TablesNameEveryRequestAndEvent checks that the tables of
// docs/protocol.md's sections "Requests" and "Events" have a row for every
// Op and Ev constant of package protocol (read from its source, so a new one
// fails this test until it is documented), no row for a name that is not
// one, and only fields that protocol.Request or protocol.Event has.
func TestProtocolDoc_TablesNameEveryRequestAndEvent(t *testing.T) {
	t.Parallel()
	ops, evs := protocolNames(t)
	if len(ops) < 30 || len(evs) < 30 {
		t.Fatalf("found %d Op and %d Ev constants in package protocol; the parser missed some", len(ops), len(evs))
	}
	doc := readDoc(t, protocolDoc)
	for _, tc := range []struct {
		section string
		names   []string
		fields  []string
	}{
		{"Requests", ops, jsonFields(reflect.TypeOf(protocol.Request{}))},
		{"Events", evs, jsonFields(reflect.TypeOf(protocol.Event{}))},
	} {
		rows := tableRows(t, section(t, doc, tc.section))
		documented := map[string]bool{}
		for _, r := range rows {
			for _, name := range codeSpans(r.cells[0]) {
				if !slices.Contains(tc.names, name) {
					t.Errorf("%s:%d: the %s table names %q, which package protocol does not define", protocolDoc, r.line, tc.section, name)
				}
				documented[name] = true
			}
			for _, f := range codeSpans(r.cells[1]) {
				if !slices.Contains(tc.fields, f) {
					t.Errorf("%s:%d: field %q is not a field of the protocol's %s", protocolDoc, r.line, f, tc.section)
				}
			}
		}
		for _, name := range tc.names {
			if !documented[name] {
				t.Errorf("%s: the %s table has no row for %q", protocolDoc, tc.section, name)
			}
		}
	}
}

// protocolNames returns the values of the Op… and Ev… string constants that
// protocol/*.go declare.
func protocolNames(t *testing.T) (ops, evs []string) {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join("..", "protocol", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					value, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					switch n := name.Name; {
					case len(n) > 2 && strings.HasPrefix(n, "Op") && isUpper(n[2]):
						ops = append(ops, value)
					case len(n) > 2 && strings.HasPrefix(n, "Ev") && isUpper(n[2]):
						evs = append(evs, value)
					}
				}
			}
		}
	}
	return ops, evs
}

func isUpper(b byte) bool { return 'A' <= b && b <= 'Z' }

// jsonFields returns the JSON names of a struct's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out = append(out, name)
	}
	return out
}

// tableRow is one body row of a Markdown table.
type tableRow struct {
	line  int
	cells []string
}

// tableRows returns the body rows of the section's table (the first one,
// there being one per section), each with at least two cells.
func tableRows(t *testing.T, sec docSection) []tableRow {
	t.Helper()
	var rows []tableRow
	inTable := false
	for i, l := range sec.lines {
		if !strings.HasPrefix(l, "|") {
			if inTable {
				break
			}
			continue
		}
		if !inTable {
			inTable = true // the header
			continue
		}
		if strings.HasPrefix(l, "|---") {
			continue
		}
		// No cell of these tables holds a "|" of its own.
		cells := strings.Split(strings.Trim(l, "| "), "|")
		if len(cells) < 3 {
			t.Fatalf("%s:%d: a row of fewer than 3 cells", protocolDoc, sec.start+i)
		}
		rows = append(rows, tableRow{line: sec.start + i, cells: cells})
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no table after line %d", protocolDoc, sec.start)
	}
	return rows
}

var codeSpan = regexp.MustCompile("`([^`]*)`")

// codeSpans returns the `code` spans of a cell.
func codeSpans(cell string) []string {
	var out []string
	for _, m := range codeSpan.FindAllStringSubmatch(cell, -1) {
		out = append(out, m[1])
	}
	return out
}
