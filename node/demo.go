package node

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/web/demo"
)

// mountDemo adds the demo page to the edge's routes, with a redirect to it
// from /, and says where it is. The page logs in with _no_need_token, so
// its app must accept that token where this process knows the app.
func (n *Node) mountDemo(cfg *Config) error {
	if !cfg.EdgeConfig.SDK {
		return errors.New("the demo page (SB_DEMO) loads the browser SDK from the edge: SB_SDK must not be off")
	}
	app := cfg.DemoApp
	if app == "" {
		app = apps.DevAppID
	}
	if cfg.Apps != nil && cfg.Apps.Len() > 0 {
		a, ok := cfg.Apps.Lookup(app)
		if !ok {
			return fmt.Errorf("the demo page's app %q (SB_DEMO_APP) is not configured", app)
		}
		if !a.AllowNoToken {
			return fmt.Errorf("the demo page's app %q (SB_DEMO_APP) does not accept _no_need_token, with which the page logs in", app)
		}
	}
	path := cfg.EdgeConfig.Path
	if path == "" {
		path = edge.DefaultConfig().Path
	}
	h := demo.Handler(demo.Config{AppID: app, WSPath: path, SDK: edge.SDKPath("agorasig.mjs")})
	cfg.EdgeConfig.Routes = append(cfg.EdgeConfig.Routes,
		edge.Route{Pattern: demo.Prefix, Handler: h},
		edge.Route{Pattern: "GET /{$}", Handler: http.RedirectHandler(demo.Prefix, http.StatusFound)},
	)
	// WebSocketURL is ws://host:port/ws whatever the path.
	n.DemoURL = "http" + strings.TrimSuffix(strings.TrimPrefix(n.WebSocketURL(), "ws"), "/ws") + demo.Prefix
	n.log.Info("demo page on", "url", n.DemoURL, "app", app)
	return nil
}
