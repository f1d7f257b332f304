package api_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/switchboard-io/switchboard/api"
	"github.com/switchboard-io/switchboard/internal/testenv"
)

const openAPIPath = "../docs/api/openapi.yaml"

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(openAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	// The examples of refusals break the schemas on purpose (a page of
	// 1001, a version 3): they are checked against the server instead.
	if err := doc.Validate(loader.Context, openapi3.DisableExamplesValidation()); err != nil {
		t.Fatalf("%s is not valid OpenAPI 3: %v", openAPIPath, err)
	}
	return doc
}

// Every route the server serves is in the document, and every operation
// of the document is a route the server serves.
func TestOpenAPI_DocumentsEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	served := api.Routes()
	sort.Strings(documented)
	sort.Strings(served)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("served but not in %s: %s", openAPIPath, r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("in %s but not served: %s", openAPIPath, r)
		}
	}
}

// exampleCall is one named example of an operation: the request it makes
// and the answer the document promises.
type exampleCall struct {
	op, name     string
	method, path string
	query        url.Values
	body         any
	status       int
	want         any
}

// Every example in the document is answered as written by a real server
// (two edges, a worker) in the state the document's description gives.
func TestOpenAPI_EveryExampleIsAnsweredAsWritten(t *testing.T) {
	doc := loadOpenAPI(t)
	calls := examples(t, doc)
	if len(calls) < 20 {
		t.Fatalf("only %d examples found", len(calls))
	}

	env := startAPI(t, testenv.Options{})
	joined(t, env, 0, "alice", "lobby")
	env.LoginUser(t, 1, "mallory")
	c := apiClient(env, 1)
	c.do(t, "PUT", "/channels/lobby/attrs/topic", map[string]string{"value": "welcome"}).want(t, 200, 0)
	c.do(t, "PUT", "/users/alice/attrs/city", map[string]string{"value": "Lisbon"}).want(t, 200, 0)

	base := env.APIURL(0)
	for _, ex := range calls {
		t.Run(ex.op+"/"+ex.name, func(t *testing.T) {
			var body []byte
			if ex.body != nil {
				body, _ = json.Marshal(ex.body)
			}
			u := base + ex.path
			if len(ex.query) > 0 {
				u += "?" + ex.query.Encode()
			}
			req, err := http.NewRequest(strings.ToUpper(ex.method), u, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			secret := testenv.App.APISecret
			if ex.name == "unauthorized" {
				secret = "not-the-secret"
			}
			req.Header.Set("Authorization", "Bearer "+secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got any
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != ex.status || !reflect.DeepEqual(got, ex.want) {
				t.Fatalf("%s %s %s\n got %d %v\nwant %d %v", ex.method, ex.path, body, resp.StatusCode, got, ex.status, ex.want)
			}
		})
	}
}

// examples pairs each response example with the request example, path and
// query parameter examples of the same name (a parameter's "example" when
// it has no named ones), in a stable order.
func examples(t *testing.T, doc *openapi3.T) []exampleCall {
	t.Helper()
	var out []exampleCall
	paths := doc.Paths.Map()
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, path := range keys {
		item := paths[path]
		methods := item.Operations()
		for _, method := range sortedKeys(methods) {
			op := methods[method]
			responses := op.Responses.Map()
			checkRequestExamplesAnswered(t, op, responses)
			for _, status := range sortedKeys(responses) {
				resp := responses[status].Value
				mt := resp.Content.Get("application/json")
				if mt == nil {
					continue
				}
				if mt.Example != nil {
					t.Errorf("%s %s %s: use named examples, so that each pairs with its request", method, path, status)
				}
				for _, name := range sortedKeys(mt.Examples) {
					out = append(out, exampleFor(t, op, method, path, status, name, mt.Examples[name].Value.Value))
				}
			}
		}
	}
	return out
}

// checkRequestExamplesAnswered fails for a request or parameter example
// that no response example of the same name answers: it would be checked
// against nothing.
func checkRequestExamplesAnswered(t *testing.T, op *openapi3.Operation, responses map[string]*openapi3.ResponseRef) {
	t.Helper()
	answered := map[string]bool{}
	for _, r := range responses {
		if mt := r.Value.Content.Get("application/json"); mt != nil {
			for name := range mt.Examples {
				answered[name] = true
			}
		}
	}
	var asked []string
	if op.RequestBody != nil {
		if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil {
			asked = append(asked, sortedKeys(mt.Examples)...)
		}
	}
	for _, p := range op.Parameters {
		asked = append(asked, sortedKeys(p.Value.Examples)...)
	}
	for _, name := range asked {
		if !answered[name] {
			t.Errorf("%s: request example %q has no response example of that name", op.OperationID, name)
		}
	}
}

func exampleFor(t *testing.T, op *openapi3.Operation, method, path, status, name string, want any) exampleCall {
	t.Helper()
	ex := exampleCall{op: op.OperationID, name: name, method: method, query: url.Values{}, want: want}
	if _, err := json.Marshal(want); err != nil {
		t.Fatal(err)
	}
	code := 0
	for _, c := range status {
		code = code*10 + int(c-'0')
	}
	ex.status = code
	p := path
	for _, pr := range op.Parameters {
		prm := pr.Value
		var v any
		if e, ok := prm.Examples[name]; ok {
			v = e.Value.Value
		} else if prm.Example != nil {
			v = prm.Example
		} else if len(prm.Examples) > 0 && name == "unauthorized" {
			v = prm.Examples[sortedKeys(prm.Examples)[0]].Value.Value
		}
		if v == nil {
			if prm.Required {
				t.Errorf("%s example %s: no value for parameter %s", op.OperationID, name, prm.Name)
			}
			continue
		}
		s := strings.TrimSuffix(strings.TrimPrefix(mustJSON(v), `"`), `"`)
		switch prm.In {
		case "path":
			p = strings.ReplaceAll(p, "{"+prm.Name+"}", url.PathEscape(s))
		case "query":
			ex.query.Set(prm.Name, s)
		}
	}
	ex.path = p
	if op.RequestBody != nil {
		if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil {
			if e, ok := mt.Examples[name]; ok {
				ex.body = e.Value.Value
			} else if op.RequestBody.Value.Required && name != "unauthorized" {
				t.Errorf("%s example %s: no request body of that name", op.OperationID, name)
			}
		}
	}
	return ex
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
