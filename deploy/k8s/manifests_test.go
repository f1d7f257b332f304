package k8s

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/switchboard-io/switchboard/apps"
)

// kustomizations are every kustomization in deploy/k8s and what each must
// render; TestKustomizations_AllAreTested keeps the list complete.
var kustomizations = []struct {
	dir string
	// fixedReplicas is the edges' and workers' replica count where no
	// HorizontalPodAutoscaler owns it (0: autoscaled).
	fixedReplicas int32
	// secretsByHand: the Secrets the pods use are created with kubectl as
	// docs/kubernetes.md says, not rendered.
	secretsByHand bool
	// tls: edges and workers reach NATS over mutual TLS.
	tls bool
}{
	{dir: "base"},
	{dir: "overlays/dev", fixedReplicas: 1},
	{dir: "overlays/production", secretsByHand: true, tls: true},
}

// natsReplicas is the size of the NATS cluster everywhere: nats.conf has a
// route to each of three servers.
const natsReplicas = 3

// shutdownBudget is how long edge and worker give their own shutdown after
// SIGTERM (cmd/edge and cmd/worker).
const shutdownBudget = 30

// Labels that tell the parts apart.
const (
	nameLabel      = "app.kubernetes.io/name"
	componentLabel = "app.kubernetes.io/component"
)

// newVariables are the variables the manifests set that
// docs/configuration.md does not list (yet): docs/kubernetes.md must.
var newVariables = []string{
	"SB_METRICS_LISTEN", // edge and worker: Prometheus /metrics
	"SB_HEALTH_LISTEN",  // worker: /healthz and /readyz
	"GOMEMLIMIT",        // the Go runtime's soft memory limit
}

func TestManifests(t *testing.T) {
	for _, k := range kustomizations {
		t.Run(k.dir, func(t *testing.T) {
			r := renderAll(t, k.dir)
			t.Run("selectors", func(t *testing.T) { checkSelectors(t, r) })
			t.Run("references", func(t *testing.T) { checkReferences(t, r, k.secretsByHand) })
			t.Run("switchboard", func(t *testing.T) { checkSwitchboard(t, r, k.fixedReplicas, k.tls) })
			t.Run("nats", func(t *testing.T) { checkNATS(t, r, k.tls) })
			t.Run("server API", func(t *testing.T) { checkServerAPI(t, r) })
		})
	}
}

// TestKustomizations_AllAreTested fails when a kustomization or component is
// added under deploy/k8s without a place in the test.
func TestKustomizations_AllAreTested(t *testing.T) {
	var tested []string
	var texts strings.Builder
	for _, k := range kustomizations {
		tested = append(tested, k.dir)
		b, err := os.ReadFile(filepath.Join(k.dir, "kustomization.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		texts.Write(b)
	}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "kustomization.yaml" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		switch {
		case regexp.MustCompile(`(?m)^kind: Component$`).Match(b):
			if !strings.Contains(texts.String(), "components/"+filepath.Base(dir)) {
				t.Errorf("component %s is used by no tested kustomization", dir)
			}
		case !slices.Contains(tested, dir):
			t.Errorf("kustomization %s is not in the test's list", dir)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDecode_IsStrict shows that the decoding the manifests go through
// rejects what a schema check would.
func TestDecode_IsStrict(t *testing.T) {
	const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
spec:
  selector:
    matchLabels: {a: b}
  template:
    metadata:
      labels: {a: b}
    spec:
      containers:
        - name: c
          image: i
`
	if _, err := decode([]byte(deployment)); err != nil {
		t.Fatalf("a valid Deployment: %v", err)
	}
	for name, doc := range map[string]string{
		"unknown field":   strings.Replace(deployment, "image: i", "image: i\n          imagePullPolicyy: Always", 1),
		"mistyped field":  strings.Replace(deployment, "spec:\n  selector", "spec:\n  replicas: \"3\"\n  selector", 1),
		"duplicate field": strings.Replace(deployment, "image: i", "image: i\n          image: j", 1),
		"unchecked kind":  "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n",
		"unknown kind":    "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x\n",
	} {
		if _, err := decode([]byte(doc)); err == nil {
			t.Errorf("%s: decoded without an error", name)
		}
	}
}

// workload is a Deployment or a StatefulSet.
type workload struct {
	kind, name string
	selector   *metav1.LabelSelector
	template   *corev1.PodTemplateSpec
	replicas   *int32
}

func (r *rendering) workloads() []workload {
	var ws []workload
	for _, d := range r.deployments {
		ws = append(ws, workload{"Deployment", d.Name, d.Spec.Selector, &d.Spec.Template, d.Spec.Replicas})
	}
	for _, s := range r.statefulSets {
		ws = append(ws, workload{"StatefulSet", s.Name, s.Spec.Selector, &s.Spec.Template, s.Spec.Replicas})
	}
	return ws
}

// selecting returns the workloads whose pods sel matches.
func (r *rendering) selecting(sel labels.Selector) []workload {
	var ws []workload
	for _, w := range r.workloads() {
		if sel.Matches(labels.Set(w.template.Labels)) {
			ws = append(ws, w)
		}
	}
	return ws
}

func selector(t *testing.T, what string, ls *metav1.LabelSelector) labels.Selector {
	t.Helper()
	if ls == nil || (len(ls.MatchLabels) == 0 && len(ls.MatchExpressions) == 0) {
		t.Fatalf("%s has an empty selector", what)
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return sel
}

// hasPort reports whether a container of the pods serves port, by name or
// number.
func hasPort(tpl *corev1.PodTemplateSpec, port intstr.IntOrString) bool {
	for _, c := range tpl.Spec.Containers {
		for _, p := range c.Ports {
			if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
				return true
			}
		}
	}
	return false
}

// containerPort resolves a named or numbered port of c.
func containerPort(c *corev1.Container, port intstr.IntOrString) int32 {
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return p.ContainerPort
		}
	}
	return 0
}

func checkSelectors(t *testing.T, r *rendering) {
	for _, w := range r.workloads() {
		what := w.kind + " " + w.name
		if !selector(t, what, w.selector).Matches(labels.Set(w.template.Labels)) {
			t.Errorf("%s: its selector does not match its pods", what)
		}
		for _, c := range w.template.Spec.TopologySpreadConstraints {
			if !selector(t, what+" topology spread", c.LabelSelector).Matches(labels.Set(w.template.Labels)) {
				t.Errorf("%s: a topology spread constraint does not select its own pods", what)
			}
		}
	}
	for _, s := range r.services {
		what := "Service " + s.Name
		ws := r.selecting(selector(t, what, &metav1.LabelSelector{MatchLabels: s.Spec.Selector}))
		if len(ws) != 1 {
			t.Errorf("%s selects the pods of %d workloads, want 1", what, len(ws))
			continue
		}
		for _, p := range s.Spec.Ports {
			if !hasPort(ws[0].template, p.TargetPort) {
				t.Errorf("%s: port %s targets %s, which %s %s does not serve", what, p.Name, p.TargetPort.String(), ws[0].kind, ws[0].name)
			}
		}
	}
	covered := map[string]bool{}
	for _, p := range r.pdbs {
		what := "PodDisruptionBudget " + p.Name
		ws := r.selecting(selector(t, what, p.Spec.Selector))
		if len(ws) != 1 {
			t.Errorf("%s selects the pods of %d workloads, want 1", what, len(ws))
			continue
		}
		covered[ws[0].kind+" "+ws[0].name] = true
	}
	for _, w := range r.workloads() {
		if !covered[w.kind+" "+w.name] {
			t.Errorf("%s %s has no PodDisruptionBudget", w.kind, w.name)
		}
	}
	for _, h := range r.hpas {
		what := "HorizontalPodAutoscaler " + h.Name
		ref := h.Spec.ScaleTargetRef
		var target *workload
		for _, w := range r.workloads() {
			if ref.APIVersion == "apps/v1" && w.kind == ref.Kind && w.name == ref.Name {
				target = &w
			}
		}
		if target == nil {
			t.Errorf("%s scales %s %s %s, which is not there", what, ref.APIVersion, ref.Kind, ref.Name)
			continue
		}
		if target.replicas != nil {
			t.Errorf("%s: %s %s sets replicas, which the autoscaler owns (every apply would reset them)", what, target.kind, target.name)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 1 || *h.Spec.MinReplicas > h.Spec.MaxReplicas {
			t.Errorf("%s: minReplicas must be set, at least 1 and at most maxReplicas", what)
		}
		for _, m := range h.Spec.Metrics {
			if m.Resource == nil || m.Resource.Name != corev1.ResourceCPU {
				continue
			}
			for _, c := range target.template.Spec.Containers {
				if _, ok := c.Resources.Requests[corev1.ResourceCPU]; !ok {
					t.Errorf("%s scales on CPU, but container %s requests none", what, c.Name)
				}
			}
		}
	}
	for _, n := range r.netpols {
		what := "NetworkPolicy " + n.Name
		ws := r.selecting(selector(t, what, &n.Spec.PodSelector))
		if len(ws) == 0 {
			t.Errorf("%s applies to no pods", what)
		}
		for _, rule := range n.Spec.Ingress {
			for _, from := range rule.From {
				// With a namespaceSelector the peer's pods may live in other
				// namespaces, which this rendering does not hold.
				if from.PodSelector != nil && from.NamespaceSelector == nil && len(r.selecting(selector(t, what+" from", from.PodSelector))) == 0 {
					t.Errorf("%s lets in pods that no workload runs: %v", what, from.PodSelector.MatchLabels)
				}
			}
			for _, p := range rule.Ports {
				for _, w := range ws {
					if p.Port != nil && !hasPort(w.template, *p.Port) {
						t.Errorf("%s opens port %s, which %s %s does not serve", what, p.Port.String(), w.kind, w.name)
					}
				}
			}
		}
	}
}

// kubectlCreateSecret finds the Secrets docs/kubernetes.md says to create.
var kubectlCreateSecret = regexp.MustCompile(`kubectl(?: -n \S+)? create secret \w+ ([a-z0-9-]+)`)

func checkReferences(t *testing.T, r *rendering, secretsByHand bool) {
	byHand := map[string]bool{}
	for _, m := range kubectlCreateSecret.FindAllStringSubmatch(readDoc(t, "kubernetes.md"), -1) {
		byHand[m[1]] = true
	}
	secret := func(what, name, key string) {
		s, ok := r.secrets[name]
		switch {
		case !ok && secretsByHand && byHand[name]:
		case !ok && secretsByHand:
			t.Errorf("%s uses Secret %s, which docs/kubernetes.md does not say how to create", what, name)
		case !ok:
			t.Errorf("%s uses Secret %s, which is not there", what, name)
		case key != "" && !hasKey(s, key):
			t.Errorf("%s uses key %s of Secret %s, which has no such key", what, key, name)
		}
	}
	configMap := func(what, name, key string) {
		c, ok := r.configMaps[name]
		if !ok {
			t.Errorf("%s uses ConfigMap %s, which is not there", what, name)
		} else if _, ok := c.Data[key]; key != "" && !ok {
			t.Errorf("%s uses key %s of ConfigMap %s, which has no such key", what, key, name)
		}
	}
	for _, w := range r.workloads() {
		what := w.kind + " " + w.name
		volumes := map[string]bool{}
		if s, ok := r.statefulSets[w.name]; ok && w.kind == "StatefulSet" {
			for _, pvc := range s.Spec.VolumeClaimTemplates {
				volumes[pvc.Name] = true
			}
		}
		for _, v := range w.template.Spec.Volumes {
			volumes[v.Name] = true
			switch {
			case v.Secret != nil:
				secret(what, v.Secret.SecretName, "")
				for _, item := range v.Secret.Items {
					secret(what, v.Secret.SecretName, item.Key)
				}
			case v.ConfigMap != nil:
				configMap(what, v.ConfigMap.Name, "")
				for _, item := range v.ConfigMap.Items {
					configMap(what, v.ConfigMap.Name, item.Key)
				}
			}
		}
		for _, c := range w.template.Spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if ref := e.ValueFrom.SecretKeyRef; ref != nil {
					secret(what+" "+e.Name, ref.Name, ref.Key)
				}
				if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil {
					configMap(what+" "+e.Name, ref.Name, ref.Key)
				}
			}
			for _, e := range c.EnvFrom {
				if e.SecretRef != nil {
					secret(what, e.SecretRef.Name, "")
				}
				if e.ConfigMapRef != nil {
					configMap(what, e.ConfigMapRef.Name, "")
				}
			}
			for _, m := range c.VolumeMounts {
				if !volumes[m.Name] {
					t.Errorf("%s: container %s mounts volume %s, which is not there", what, c.Name, m.Name)
				}
			}
		}
	}
}

// env is a container's environment by name.
func env(c *corev1.Container) map[string]corev1.EnvVar {
	m := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		m[e.Name] = e
	}
	return m
}

// listenPort is the port of a ":7400"-style address.
func listenPort(t *testing.T, what, addr string) int32 {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	n, err2 := strconv.Atoi(port)
	if err != nil || err2 != nil {
		t.Fatalf("%s: %q is not a host:port address", what, addr)
	}
	return int32(n)
}

// The variables docs/configuration.md documents, from its tables; a name
// ending in * stands for every name with that prefix.
var documentedVariables = sync.OnceValue(func() []string {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		return nil
	}
	var names []string
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]*\\*?)`")
	for _, line := range strings.Split(string(b), "\n") {
		if cells := strings.Split(line, "|"); strings.HasPrefix(line, "|") && len(cells) > 2 {
			for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
				names = append(names, m[1])
			}
		}
	}
	return names
})

func documented(name string) bool {
	for _, d := range documentedVariables() {
		if d == name || (strings.HasSuffix(d, "*") && strings.HasPrefix(name, strings.TrimSuffix(d, "*"))) {
			return true
		}
	}
	return false
}

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEnvironment_IsDocumented(t *testing.T) {
	for _, want := range []string{"NATS_URL", "NATS_PASSWORD", "SB_REPLICAS", "SB_APPS_FILE", "OTEL_*"} {
		if !documented(want) {
			t.Fatalf("found no %s in the tables of docs/configuration.md: has its layout changed?", want)
		}
	}
	doc := readDoc(t, "kubernetes.md")
	for _, v := range newVariables {
		if !strings.Contains(doc, "`"+v+"`") {
			t.Errorf("docs/kubernetes.md does not explain %s", v)
		}
	}
}

// switchboardPods returns the Deployments that run edges and workers.
func switchboardPods(t *testing.T, r *rendering) []*appsv1.Deployment {
	var ds []*appsv1.Deployment
	for _, d := range r.deployments {
		if d.Spec.Template.Labels[nameLabel] == "switchboard" {
			ds = append(ds, d)
		}
	}
	slices.SortFunc(ds, func(a, b *appsv1.Deployment) int { return strings.Compare(a.Name, b.Name) })
	var parts []string
	for _, d := range ds {
		parts = append(parts, d.Spec.Template.Labels[componentLabel])
	}
	if !slices.Equal(parts, []string{"edge", "worker"}) {
		t.Fatalf("Switchboard's Deployments run %v, want an edge and a worker", parts)
	}
	return ds
}

// natsStatefulSet returns the NATS servers.
func natsStatefulSet(t *testing.T, r *rendering) *appsv1.StatefulSet {
	t.Helper()
	for _, s := range r.statefulSets {
		if s.Spec.Template.Labels[nameLabel] == "nats" {
			if len(s.Spec.Template.Spec.Containers) != 1 {
				t.Fatalf("StatefulSet %s has %d containers, want 1", s.Name, len(s.Spec.Template.Spec.Containers))
			}
			return s
		}
	}
	t.Fatal("no NATS StatefulSet")
	return nil
}

func checkSwitchboard(t *testing.T, r *rendering, fixedReplicas int32, tls bool) {
	nats := natsStatefulSet(t, r)
	natsEnv := env(&nats.Spec.Template.Spec.Containers[0])
	for _, d := range switchboardPods(t, r) {
		pod := &d.Spec.Template
		what := "Deployment " + d.Name
		if len(pod.Spec.Containers) != 1 {
			t.Errorf("%s has %d containers, want 1 (the overlays patch the first)", what, len(pod.Spec.Containers))
			continue
		}
		c := &pod.Spec.Containers[0]
		vars := env(c)
		part := pod.Labels[componentLabel]
		if want := []string{"/switchboard/" + part}; !slices.Equal(c.Command, want) {
			t.Errorf("%s runs %v, want %v", what, c.Command, want)
		}

		for _, e := range c.Env {
			if !documented(e.Name) && !slices.Contains(newVariables, e.Name) {
				t.Errorf("%s sets %s, which docs/configuration.md does not document", what, e.Name)
			}
		}

		// Replicas: fixed, or an autoscaler's.
		var hpa bool
		for _, h := range r.hpas {
			hpa = hpa || (h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == d.Name)
		}
		switch {
		case fixedReplicas == 0 && !hpa:
			t.Errorf("%s has no HorizontalPodAutoscaler", what)
		case fixedReplicas != 0 && (hpa || d.Spec.Replicas == nil || *d.Spec.Replicas != fixedReplicas):
			t.Errorf("%s: want %d replicas and no autoscaler", what, fixedReplicas)
		}

		// Resources and security.
		_, cpu := c.Resources.Requests[corev1.ResourceCPU]
		_, mem := c.Resources.Requests[corev1.ResourceMemory]
		_, memLimit := c.Resources.Limits[corev1.ResourceMemory]
		if !cpu || !mem || !memLimit {
			t.Errorf("%s: set cpu and memory requests and a memory limit", what)
		}
		psc, sc := pod.Spec.SecurityContext, c.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil {
			t.Errorf("%s must run as a non-root user, by number", what)
		}
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: want a read-only root filesystem and no privilege escalation", what)
		}

		// Probes on the port the process serves them on.
		listenVar := map[string]string{"edge": "SB_LISTEN", "worker": "SB_HEALTH_LISTEN"}[part]
		serving := listenPort(t, what+" "+listenVar, vars[listenVar].Value)
		for path, p := range map[string]*corev1.Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
			switch {
			case p == nil || p.HTTPGet == nil:
				t.Errorf("%s: want an HTTP probe on %s", what, path)
			case p.HTTPGet.Path != path || containerPort(c, p.HTTPGet.Port) != serving:
				t.Errorf("%s: probe %s on port %s, want %s on %s's port %d", what, p.HTTPGet.Path, p.HTTPGet.Port.String(), path, listenVar, serving)
			}
		}

		// Prometheus scrapes the metrics address.
		metrics := listenPort(t, what+" SB_METRICS_LISTEN", vars["SB_METRICS_LISTEN"].Value)
		a := pod.Annotations
		if a["prometheus.io/scrape"] != "true" || a["prometheus.io/path"] != "/metrics" ||
			a["prometheus.io/port"] != strconv.Itoa(int(metrics)) || containerPort(c, intstr.FromInt32(metrics)) == 0 {
			t.Errorf("%s: want prometheus.io annotations for /metrics on SB_METRICS_LISTEN's port %d, and that container port", what, metrics)
		}

		// The drain: the preStop hook and the process's own shutdown both
		// fit in the grace period.
		grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
		if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
			grace = *g
		}
		var preStop int64
		if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
			preStop = c.Lifecycle.PreStop.Sleep.Seconds
		}
		if grace < preStop+shutdownBudget {
			t.Errorf("%s: terminationGracePeriodSeconds %d < preStop %ds + shutdown %ds", what, grace, preStop, shutdownBudget)
		}
		if part == "edge" {
			if preStop < 1 {
				t.Errorf("%s: want a preStop sleep, so that the pod leaves the Service before SIGTERM", what)
			}
			if f := vars["SB_EDGE_ID"].ValueFrom; f == nil || f.FieldRef == nil || f.FieldRef.FieldPath != "metadata.name" {
				t.Errorf("%s: want SB_EDGE_ID from the pod name", what)
			}
		}

		// NATS: the client Service, the cluster's size, the same credentials
		// as the servers, TLS where the overlay asks for it.
		checkNATSURL(t, r, what, vars["NATS_URL"].Value, nats)
		if v := vars["SB_REPLICAS"].Value; v != strconv.Itoa(natsReplicas) {
			t.Errorf("%s: SB_REPLICAS %q, want one KV replica per NATS server, %d", what, v, natsReplicas)
		}
		for _, v := range []string{"NATS_USER", "NATS_PASSWORD"} {
			ours, theirs := vars[v].ValueFrom, natsEnv[v].ValueFrom
			if ours == nil || theirs == nil || ours.SecretKeyRef == nil || theirs.SecretKeyRef == nil ||
				*ours.SecretKeyRef != *theirs.SecretKeyRef {
				t.Errorf("%s: %s must come from the Secret key the NATS servers use", what, v)
			}
		}
		for _, v := range []string{"NATS_CA", "NATS_CERT", "NATS_KEY"} {
			e, ok := vars[v]
			switch {
			case ok != tls:
				t.Errorf("%s: %s set %v, want %v", what, v, ok, tls)
			case ok:
				secretFile(t, r, what+" "+v, pod, c, e.Value)
			}
		}

		// The worker's apps: a file from a Secret, which must load. (The
		// edge's, for the server API: checkServerAPI.)
		if part == "worker" {
			_, content, ok := secretFile(t, r, what+" SB_APPS_FILE", pod, c, vars["SB_APPS_FILE"].Value)
			if ok {
				checkApps(t, what, content)
			}
		}
	}
}

// checkNATSURL checks that every server of NATS_URL is a Service port that
// leads to the NATS servers' client port.
func checkNATSURL(t *testing.T, r *rendering, what, value string, nats *appsv1.StatefulSet) {
	t.Helper()
	if value == "" {
		t.Errorf("%s: NATS_URL is not set", what)
	}
	for _, u := range strings.Split(value, ",") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(u), "nats://")
		host, port, err := net.SplitHostPort(rest)
		n, err2 := strconv.Atoi(port)
		if !ok || err != nil || err2 != nil {
			t.Errorf("%s: NATS_URL %q: want nats://service:port", what, u)
			continue
		}
		svc, ok := r.services[host]
		if !ok {
			t.Errorf("%s: NATS_URL names %s, which is no Service here", what, host)
			continue
		}
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(nats.Spec.Template.Labels)) {
			t.Errorf("%s: NATS_URL's Service %s does not lead to the NATS servers", what, host)
		}
		var found bool
		for _, p := range svc.Spec.Ports {
			found = found || (p.Port == int32(n) && containerPort(&nats.Spec.Template.Spec.Containers[0], p.TargetPort) == 4222)
		}
		if !found {
			t.Errorf("%s: NATS_URL port %d of Service %s does not lead to the NATS client port 4222", what, n, host)
		}
	}
}

// secretKey names a key of a Secret.
type secretKey struct{ secret, key string }

// secretFile checks that path is a key of a Secret mounted into c, where
// the pod's user may read it, and returns that key, and its content when
// the Secret is rendered here (rendered true).
func secretFile(t *testing.T, r *rendering, what string, pod *corev1.PodTemplateSpec, c *corev1.Container, path string) (from secretKey, content string, rendered bool) {
	t.Helper()
	for _, m := range c.VolumeMounts {
		rel, err := filepath.Rel(m.MountPath, path)
		if err != nil || strings.HasPrefix(rel, "..") || strings.Contains(rel, "/") {
			continue
		}
		for _, v := range pod.Spec.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			key := rel
			mode := corev1.SecretVolumeSourceDefaultMode
			if v.Secret.DefaultMode != nil {
				mode = *v.Secret.DefaultMode
			}
			if len(v.Secret.Items) > 0 {
				key = ""
				for _, item := range v.Secret.Items {
					if item.Path == rel {
						key = item.Key
						if item.Mode != nil {
							mode = *item.Mode
						}
					}
				}
			}
			// The file belongs to root, and to the pod's fsGroup if it
			// has one; the pod's user is not root.
			psc := pod.Spec.SecurityContext
			if fsGroup := psc != nil && psc.FSGroup != nil; mode&0o004 == 0 && (mode&0o040 == 0 || !fsGroup) {
				t.Errorf("%s: %s has mode %#o, which the pod's user cannot read (without an fsGroup the file's group is root's)", what, path, mode)
			}
			from = secretKey{v.Secret.SecretName, key}
			s, ok := r.secrets[v.Secret.SecretName]
			switch {
			case key == "":
				t.Errorf("%s: %s is not among the items of Secret %s", what, path, v.Secret.SecretName)
			case !ok:
				// Created by hand: checkReferences checks that the docs say how.
				return from, "", false
			case !hasKey(s, key):
				t.Errorf("%s: Secret %s has no key %s", what, v.Secret.SecretName, key)
			default:
				return from, secretValue(s, key), true
			}
			return secretKey{}, "", false
		}
	}
	t.Errorf("%s: %s is in no Secret mounted into container %s", what, path, c.Name)
	return secretKey{}, "", false
}

func hasKey(s *corev1.Secret, key string) bool {
	_, inData := s.Data[key]
	_, inStringData := s.StringData[key]
	return inData || inStringData
}

// secretValue is what a pod reads from key: stringData wins over data, as
// the API server merges them.
func secretValue(s *corev1.Secret, key string) string {
	if v, ok := s.StringData[key]; ok {
		return v
	}
	return string(s.Data[key])
}

// checkApps loads an apps file as edge and worker will; nil if it does not
// load or holds no app.
func checkApps(t *testing.T, what, content string) *apps.Registry {
	t.Helper()
	path := filepath.Join(t.TempDir(), "apps.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	reg, err := apps.Load(func(name string) string {
		if name == apps.EnvAppsFile {
			return path
		}
		return ""
	})
	if err != nil {
		t.Errorf("%s: the apps file does not load: %v", what, err)
		return nil
	}
	if reg.Len() == 0 {
		t.Errorf("%s: the apps file has no app", what)
		return nil
	}
	return reg
}

// TestDockerfile_BuildsWhatTheManifestsRun: the image (which no test here
// builds: there is no Docker engine) has each command the manifests run,
// as the user they run it as.
func TestDockerfile_BuildsWhatTheManifestsRun(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	dockerfile := string(b)
	user := regexp.MustCompile(`(?m)^USER (\d+)`).FindStringSubmatch(dockerfile)
	if user == nil || !strings.Contains(dockerfile, " /switchboard/\n") {
		t.Fatal("the Dockerfile must copy the binaries to /switchboard/ and set a numeric USER")
	}
	for _, d := range switchboardPods(t, renderAll(t, "base")) {
		pod := &d.Spec.Template
		cmd := strings.TrimPrefix(pod.Spec.Containers[0].Command[0], "/switchboard/")
		if !strings.Contains(dockerfile, " ./cmd/"+cmd+" ") && !strings.Contains(dockerfile, " ./cmd/"+cmd+"\n") {
			t.Errorf("Deployment %s runs /switchboard/%s, which the Dockerfile does not build", d.Name, cmd)
		}
		if _, err := os.Stat(filepath.Join("..", "..", "cmd", cmd, "main.go")); err != nil {
			t.Errorf("Deployment %s: %v", d.Name, err)
		}
		if uid := pod.Spec.SecurityContext.RunAsUser; uid == nil || strconv.FormatInt(*uid, 10) != user[1] {
			t.Errorf("Deployment %s runs as user %v, the image as %s", d.Name, uid, user[1])
		}
	}
}
