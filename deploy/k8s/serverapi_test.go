package k8s

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The server API (docs/server-api.md) on Kubernetes: the edges serve it on
// a port of their own, behind a Service of its own, and a NetworkPolicy
// lets only the pods that carry apiClientLabel reach it.
const (
	apiService     = "switchboard-api"
	apiPortName    = "api"
	apiClientLabel = "switchboard.io/api-client"
)

// namespaceNameLabel is the label Kubernetes gives every namespace.
const namespaceNameLabel = "kubernetes.io/metadata.name"

func checkServerAPI(t *testing.T, r *rendering) {
	ds := switchboardPods(t, r)
	edge, worker := ds[0], ds[1]
	what := "Deployment " + edge.Name
	pod := &edge.Spec.Template
	c := &pod.Spec.Containers[0]
	vars := env(c)

	// The edge serves the API on the container port named api.
	if vars["SB_API_LISTEN"].Value == "" {
		t.Fatalf("%s: SB_API_LISTEN is not set: the edges serve no server API", what)
	}
	api := listenPort(t, what+" SB_API_LISTEN", vars["SB_API_LISTEN"].Value)
	if got := containerPort(c, intstr.FromString(apiPortName)); got != api {
		t.Errorf("%s: container port %q is %d, want SB_API_LISTEN's %d", what, apiPortName, got, api)
	}

	// It checks the API secrets of the apps the workers serve: the same
	// Secret key, and (where it is rendered) an app that has an API secret.
	from, content, rendered := secretFile(t, r, what+" SB_APPS_FILE", pod, c, vars["SB_APPS_FILE"].Value)
	wc := &worker.Spec.Template.Spec.Containers[0]
	wfrom, _, _ := secretFile(t, r, "Deployment "+worker.Name+" SB_APPS_FILE", &worker.Spec.Template, wc, env(wc)["SB_APPS_FILE"].Value)
	if from != wfrom {
		t.Errorf("%s reads its apps from %v, Deployment %s from %v: want the same", what, from, worker.Name, wfrom)
	}
	if rendered {
		if reg := checkApps(t, what, content); reg != nil {
			var secrets int
			for _, id := range reg.IDs() {
				if a, _ := reg.Lookup(id); a.APISecret != "" {
					secrets++
				}
			}
			if secrets == 0 {
				t.Errorf("%s: no app of the apps file has an apiSecret, so the API refuses every request", what)
			}
		}
	}

	// The API's own Service leads to that port, and no other Service of
	// the edges does.
	edgePods := labels.Set(pod.Labels)
	target := func(p corev1.ServicePort) int32 {
		tp := p.TargetPort
		if tp.Type == intstr.Int && tp.IntVal == 0 {
			tp = intstr.FromInt32(p.Port) // unset: the port's own number
		}
		return containerPort(c, tp)
	}
	if svc, ok := r.services[apiService]; !ok {
		t.Errorf("no Service %s", apiService)
	} else {
		if (svc.Spec.Type != "" && svc.Spec.Type != corev1.ServiceTypeClusterIP) || svc.Spec.ClusterIP == corev1.ClusterIPNone {
			t.Errorf("Service %s is of type %q (clusterIP %q), want a ClusterIP inside the cluster only", apiService, svc.Spec.Type, svc.Spec.ClusterIP)
		}
		if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(edgePods) {
			t.Errorf("Service %s does not select the edges", apiService)
		}
		if p := svc.Spec.Ports; len(p) != 1 || p[0].Port != api || p[0].TargetPort != intstr.FromString(apiPortName) || target(p[0]) != api {
			t.Errorf("Service %s: want one port, %d, with the edges' port %q as its target", apiService, api, apiPortName)
		}
	}
	for _, svc := range r.services {
		if svc.Name == apiService || len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(edgePods) {
			continue
		}
		for _, p := range svc.Spec.Ports {
			if p.Port == api || target(p) == api {
				t.Errorf("Service %s exposes the API port %d of the edges; only %s may", svc.Name, api, apiService)
			}
		}
	}

	// The NetworkPolicies let only the labelled pods reach the API, and
	// leave the WebSocket and metrics ports open to whoever reaches them
	// without a policy (clients through their proxy, the kubelet, Prometheus).
	ns := edge.Namespace
	inNamespace := func(name string, podLabels map[string]string) peer {
		return peer{name: name, pod: true, labels: podLabels, nsLabels: map[string]string{namespaceNameLabel: ns}}
	}
	labelled := map[string]string{apiClientLabel: "true", "app": "backend"}
	allowed := []peer{
		inNamespace("a labelled pod of the namespace", labelled),
		{name: "a labelled pod of another namespace", pod: true, labels: labelled, nsLabels: map[string]string{namespaceNameLabel: "my-app"}},
	}
	refused := []peer{
		{name: "an address of no pod (a client, a load balancer)"},
		inNamespace("an unlabelled pod of the namespace", map[string]string{"app": "backend"}),
		inNamespace("a pod labelled "+apiClientLabel+"=false", map[string]string{apiClientLabel: "false"}),
		{name: "an unlabelled pod of another namespace", pod: true, labels: map[string]string{"app": "backend"}, nsLabels: map[string]string{namespaceNameLabel: "my-app"}},
	}
	for _, w := range r.workloads() {
		refused = append(refused, inNamespace(w.kind+" "+w.name+"'s pods", w.template.Labels))
	}
	open := map[string]int32{
		"SB_LISTEN":         listenPort(t, what+" SB_LISTEN", vars["SB_LISTEN"].Value),
		"SB_METRICS_LISTEN": listenPort(t, what+" SB_METRICS_LISTEN", vars["SB_METRICS_LISTEN"].Value),
	}
	var policies []*networkingv1.NetworkPolicy
	for _, n := range r.netpols {
		policies = append(policies, n)
	}
	for _, from := range append(allowed, refused...) {
		for name, port := range open {
			if !admits(t, policies, ns, pod, port, from) {
				t.Errorf("%s cannot reach the edges' %s port %d", from.name, name, port)
			}
		}
	}
	for _, from := range allowed {
		if !admits(t, policies, ns, pod, api, from) {
			t.Errorf("%s cannot reach the edges' API port %d", from.name, api)
		}
	}
	for _, from := range refused {
		if admits(t, policies, ns, pod, api, from) {
			t.Errorf("%s can reach the edges' API port %d; only pods labelled %s: \"true\" may", from.name, api, apiClientLabel)
		}
	}
}

// peer is where a connection comes from: a pod with its labels, in a
// namespace with its labels, or (pod false) an address of no pod.
type peer struct {
	name             string
	pod              bool
	labels, nsLabels map[string]string
}

// admits reports whether policies (those of namespace ns among them) let
// from reach port (TCP) of the pods of tpl, as a network plugin that
// enforces NetworkPolicy would: a pod that no policy selects for ingress
// takes everything; one that some do, what any of their rules allows.
func admits(t *testing.T, policies []*networkingv1.NetworkPolicy, ns string, tpl *corev1.PodTemplateSpec, port int32, from peer) bool {
	t.Helper()
	isolated := false
	for _, p := range policies {
		if p.Namespace != ns || !ingressPolicy(p) || !selector(t, "NetworkPolicy "+p.Name, &p.Spec.PodSelector).Matches(labels.Set(tpl.Labels)) {
			continue
		}
		isolated = true
		for _, rule := range p.Spec.Ingress {
			if rulePorts(t, tpl, rule.Ports, port) && rulePeers(t, p, rule.From, from) {
				return true
			}
		}
	}
	return !isolated
}

// ingressPolicy: without policyTypes, a policy is about ingress.
func ingressPolicy(p *networkingv1.NetworkPolicy) bool {
	return len(p.Spec.PolicyTypes) == 0 || slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
}

// rulePorts reports whether a rule's ports include port; no ports is all.
func rulePorts(t *testing.T, tpl *corev1.PodTemplateSpec, ports []networkingv1.NetworkPolicyPort, port int32) bool {
	t.Helper()
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP {
			continue
		}
		switch {
		case p.Port == nil:
			return true
		case p.Port.Type == intstr.String:
			for i := range tpl.Spec.Containers {
				if containerPort(&tpl.Spec.Containers[i], *p.Port) == port {
					return true
				}
			}
		case p.EndPort != nil:
			if p.Port.IntVal <= port && port <= *p.EndPort {
				return true
			}
		case p.Port.IntVal == port:
			return true
		}
	}
	return false
}

// rulePeers reports whether a rule of policy p lets from in; no peers is
// everyone. A pod selector alone means pods of the policy's namespace; a
// namespace selector with it, such pods in such namespaces.
func rulePeers(t *testing.T, p *networkingv1.NetworkPolicy, peers []networkingv1.NetworkPolicyPeer, from peer) bool {
	t.Helper()
	if len(peers) == 0 {
		return true
	}
	matches := func(what string, ls *metav1.LabelSelector, set map[string]string) bool {
		sel, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil {
			t.Fatalf("NetworkPolicy %s %s: %v", p.Name, what, err)
		}
		return sel.Matches(labels.Set(set))
	}
	for _, to := range peers {
		if to.IPBlock != nil {
			t.Fatalf("NetworkPolicy %s: this check does not model ipBlock peers; teach it before using one", p.Name)
		}
		if !from.pod {
			continue
		}
		nsOK := from.nsLabels[namespaceNameLabel] == p.Namespace
		if to.NamespaceSelector != nil {
			nsOK = matches("namespaceSelector", to.NamespaceSelector, from.nsLabels)
		}
		podOK := to.PodSelector == nil || matches("podSelector", to.PodSelector, from.labels)
		if nsOK && podOK {
			return true
		}
	}
	return false
}

// TestAdmits checks the NetworkPolicy reading checkServerAPI relies on,
// against the rules of the NetworkPolicy API.
func TestAdmits(t *testing.T) {
	const ns = "sb"
	tpl := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"role": "server"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Ports: []corev1.ContainerPort{
			{Name: "web", ContainerPort: 80}, {Name: "admin", ContainerPort: 81},
		}}}},
	}
	server := metav1.LabelSelector{MatchLabels: map[string]string{"role": "server"}}
	client := &metav1.LabelSelector{MatchLabels: map[string]string{"role": "client"}}
	prod := &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}
	port := func(name string) []networkingv1.NetworkPolicyPort {
		p := intstr.FromString(name)
		return []networkingv1.NetworkPolicyPort{{Port: &p}}
	}
	policy := func(namespace string, sel metav1.LabelSelector, rules ...networkingv1.NetworkPolicyIngressRule) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: namespace},
			Spec:       networkingv1.NetworkPolicySpec{PodSelector: sel, Ingress: rules},
		}
	}
	var (
		outside       = peer{name: "outside"}
		clientHere    = peer{pod: true, labels: map[string]string{"role": "client"}, nsLabels: map[string]string{namespaceNameLabel: ns}}
		otherHere     = peer{pod: true, labels: map[string]string{"role": "other"}, nsLabels: map[string]string{namespaceNameLabel: ns}}
		clientProd    = peer{pod: true, labels: map[string]string{"role": "client"}, nsLabels: map[string]string{namespaceNameLabel: "a", "env": "prod"}}
		clientOther   = peer{pod: true, labels: map[string]string{"role": "client"}, nsLabels: map[string]string{namespaceNameLabel: "b"}}
		otherInProd   = peer{pod: true, labels: map[string]string{"role": "other"}, nsLabels: map[string]string{namespaceNameLabel: "a", "env": "prod"}}
		clientsHere   = networkingv1.NetworkPolicyIngressRule{Ports: port("admin"), From: []networkingv1.NetworkPolicyPeer{{PodSelector: client}}}
		clientsInAny  = networkingv1.NetworkPolicyIngressRule{Ports: port("admin"), From: []networkingv1.NetworkPolicyPeer{{PodSelector: client, NamespaceSelector: &metav1.LabelSelector{}}}}
		clientsOrProd = networkingv1.NetworkPolicyIngressRule{Ports: port("admin"), From: []networkingv1.NetworkPolicyPeer{{PodSelector: client}, {NamespaceSelector: prod}}}
		clientsInProd = networkingv1.NetworkPolicyIngressRule{Ports: port("admin"), From: []networkingv1.NetworkPolicyPeer{{PodSelector: client, NamespaceSelector: prod}}}
		webForAll     = networkingv1.NetworkPolicyIngressRule{Ports: port("web")}
	)
	for _, tc := range []struct {
		name     string
		policies []*networkingv1.NetworkPolicy
		port     int32
		from     peer
		want     bool
	}{
		{"no policy", nil, 81, outside, true},
		{"a policy of other pods", []*networkingv1.NetworkPolicy{policy(ns, *client)}, 81, outside, true},
		{"a policy of another namespace", []*networkingv1.NetworkPolicy{policy("x", server)}, 81, outside, true},
		{"a policy without rules", []*networkingv1.NetworkPolicy{policy(ns, server)}, 80, clientHere, false},
		{"a port open to all", []*networkingv1.NetworkPolicy{policy(ns, server, webForAll)}, 80, outside, true},
		{"another port", []*networkingv1.NetworkPolicy{policy(ns, server, webForAll)}, 81, clientHere, false},
		{"a pod selector: its pods", []*networkingv1.NetworkPolicy{policy(ns, server, clientsHere)}, 81, clientHere, true},
		{"a pod selector: other pods", []*networkingv1.NetworkPolicy{policy(ns, server, clientsHere)}, 81, otherHere, false},
		{"a pod selector: its pods elsewhere", []*networkingv1.NetworkPolicy{policy(ns, server, clientsHere)}, 81, clientProd, false},
		{"a pod selector: outside", []*networkingv1.NetworkPolicy{policy(ns, server, clientsHere)}, 81, outside, false},
		{"any namespace: its pods elsewhere", []*networkingv1.NetworkPolicy{policy(ns, server, clientsInAny)}, 81, clientOther, true},
		{"any namespace: other pods", []*networkingv1.NetworkPolicy{policy(ns, server, clientsInAny)}, 81, otherInProd, false},
		{"two peers are either", []*networkingv1.NetworkPolicy{policy(ns, server, clientsOrProd)}, 81, otherInProd, true},
		{"one peer is both: both", []*networkingv1.NetworkPolicy{policy(ns, server, clientsInProd)}, 81, clientProd, true},
		{"one peer is both: one", []*networkingv1.NetworkPolicy{policy(ns, server, clientsInProd)}, 81, otherInProd, false},
		{"policies add up", []*networkingv1.NetworkPolicy{policy(ns, server, webForAll), policy(ns, server, clientsHere)}, 81, clientHere, true},
	} {
		if got := admits(t, tc.policies, ns, tpl, tc.port, tc.from); got != tc.want {
			t.Errorf("%s: port %d admitted %v, want %v", tc.name, tc.port, got, tc.want)
		}
	}
}

// TestServerAPI_IsDocumented: the Service and the label a backend needs
// are in docs/kubernetes.md, and docs/server-api.md points there.
func TestServerAPI_IsDocumented(t *testing.T) {
	k8s := readDoc(t, "kubernetes.md")
	for _, want := range []string{apiService, apiClientLabel, "apiSecret"} {
		if !strings.Contains(k8s, want) {
			t.Errorf("docs/kubernetes.md does not mention %s", want)
		}
	}
	if !strings.Contains(readDoc(t, "server-api.md"), apiService) {
		t.Errorf("docs/server-api.md does not name the Service %s", apiService)
	}
}
