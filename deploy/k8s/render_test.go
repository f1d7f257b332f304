package k8s

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// allowedKinds are the kinds the manifests may contain. Anything else fails
// the test: a kind outside this list has no strict check here.
var allowedKinds = map[schema.GroupVersionKind]bool{
	{Version: "v1", Kind: "Namespace"}:                                     true,
	{Version: "v1", Kind: "Service"}:                                       true,
	{Version: "v1", Kind: "ConfigMap"}:                                     true,
	{Version: "v1", Kind: "Secret"}:                                        true,
	{Version: "v1", Kind: "PersistentVolumeClaim"}:                         true,
	{Group: "apps", Version: "v1", Kind: "Deployment"}:                     true,
	{Group: "apps", Version: "v1", Kind: "StatefulSet"}:                    true,
	{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"}: true,
	{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"}:          true,
	{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}:     true,
}

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(corev1.AddToScheme(scheme))
	utilruntime.Must(appsv1.AddToScheme(scheme))
	utilruntime.Must(autoscalingv2.AddToScheme(scheme))
	utilruntime.Must(policyv1.AddToScheme(scheme))
	utilruntime.Must(networkingv1.AddToScheme(scheme))
}

// strict decodes YAML into the k8s.io/api types and fails on unknown,
// duplicate and mistyped fields, which is what kubeconform would catch if
// it could download its schemas here.
var strict = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
	kjson.SerializerOptions{Yaml: true, Strict: true})

// renderer turns a kustomization directory into a YAML stream.
type renderer struct {
	name   string
	render func(dir string) ([]byte, error)
}

// renderers are the ways to render available here: `kubectl kustomize`
// when kubectl is on the PATH (what `kubectl apply -k` deploys), and the
// kustomize Go library always, so that CI without kubectl renders too and
// never skips.
func renderers() []renderer {
	rs := []renderer{{"the kustomize library", renderWithLibrary}}
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		rs = slices.Insert(rs, 0, renderer{"kubectl kustomize", func(dir string) ([]byte, error) {
			return renderWithKubectl(kubectl, dir)
		}})
	}
	return rs
}

func renderWithKubectl(kubectl, dir string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, kubectl, "kustomize", dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s kustomize %s: %w: %s", kubectl, dir, err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

func renderWithLibrary(dir string) ([]byte, error) {
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	return resources.AsYaml()
}

// decode splits a YAML stream and decodes each document strictly.
func decode(stream []byte) ([]runtime.Object, error) {
	var objs []runtime.Object
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, gvk, err := strict.Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(objs)+1, err)
		}
		if !allowedKinds[*gvk] {
			return nil, fmt.Errorf("document %d: kind %s is not one this test checks", len(objs)+1, gvk)
		}
		objs = append(objs, obj)
	}
}

// objectKey names an object: kind, namespace and name.
func objectKey(obj runtime.Object) string {
	m, err := meta.Accessor(obj)
	if err != nil {
		return fmt.Sprintf("%T", obj)
	}
	return obj.GetObjectKind().GroupVersionKind().Kind + " " + m.GetNamespace() + "/" + m.GetName()
}

// sameObjects reports how two renderings differ, object by object.
func sameObjects(a, b []runtime.Object) error {
	byKey := func(objs []runtime.Object) map[string]runtime.Object {
		m := map[string]runtime.Object{}
		for _, o := range objs {
			m[objectKey(o)] = o
		}
		return m
	}
	ia, ib := byKey(a), byKey(b)
	var diffs []string
	for k, oa := range ia {
		ob, ok := ib[k]
		switch {
		case !ok:
			diffs = append(diffs, k+" only in the first")
		case !equality.Semantic.DeepEqual(oa, ob):
			diffs = append(diffs, k+" differs")
		}
	}
	for k := range ib {
		if _, ok := ia[k]; !ok {
			diffs = append(diffs, k+" only in the second")
		}
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		return errors.New(strings.Join(diffs, "; "))
	}
	return nil
}

// rendering is one kustomization's objects, by kind and name.
type rendering struct {
	objects      []runtime.Object
	namespaces   map[string]*corev1.Namespace
	services     map[string]*corev1.Service
	configMaps   map[string]*corev1.ConfigMap
	secrets      map[string]*corev1.Secret
	deployments  map[string]*appsv1.Deployment
	statefulSets map[string]*appsv1.StatefulSet
	hpas         map[string]*autoscalingv2.HorizontalPodAutoscaler
	pdbs         map[string]*policyv1.PodDisruptionBudget
	netpols      map[string]*networkingv1.NetworkPolicy
}

func index(objs []runtime.Object) (*rendering, error) {
	r := &rendering{
		objects:      objs,
		namespaces:   map[string]*corev1.Namespace{},
		services:     map[string]*corev1.Service{},
		configMaps:   map[string]*corev1.ConfigMap{},
		secrets:      map[string]*corev1.Secret{},
		deployments:  map[string]*appsv1.Deployment{},
		statefulSets: map[string]*appsv1.StatefulSet{},
		hpas:         map[string]*autoscalingv2.HorizontalPodAutoscaler{},
		pdbs:         map[string]*policyv1.PodDisruptionBudget{},
		netpols:      map[string]*networkingv1.NetworkPolicy{},
	}
	for _, obj := range objs {
		var dup bool
		switch o := obj.(type) {
		case *corev1.Namespace:
			dup = put(r.namespaces, o.Name, o)
		case *corev1.Service:
			dup = put(r.services, o.Name, o)
		case *corev1.ConfigMap:
			dup = put(r.configMaps, o.Name, o)
		case *corev1.Secret:
			dup = put(r.secrets, o.Name, o)
		case *appsv1.Deployment:
			dup = put(r.deployments, o.Name, o)
		case *appsv1.StatefulSet:
			dup = put(r.statefulSets, o.Name, o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			dup = put(r.hpas, o.Name, o)
		case *policyv1.PodDisruptionBudget:
			dup = put(r.pdbs, o.Name, o)
		case *networkingv1.NetworkPolicy:
			dup = put(r.netpols, o.Name, o)
		default:
			return nil, fmt.Errorf("%s: no index for %T", objectKey(obj), obj)
		}
		if dup {
			return nil, fmt.Errorf("%s appears twice", objectKey(obj))
		}
	}
	return r, nil
}

func put[T any](m map[string]T, name string, v T) (dup bool) {
	_, dup = m[name]
	m[name] = v
	return dup
}

// renderAll renders dir with every available renderer, checks that they
// agree, and returns the first one's objects (kubectl's where present).
func renderAll(t *testing.T, dir string) *rendering {
	t.Helper()
	var first []runtime.Object
	var firstName string
	for _, rd := range renderers() {
		start := time.Now()
		out, err := rd.render(dir)
		if err != nil {
			t.Fatalf("%s cannot render %s: %v", rd.name, dir, err)
		}
		objs, err := decode(out)
		if err != nil {
			t.Fatalf("%s, rendered by %s: %v", dir, rd.name, err)
		}
		t.Logf("%s: %d objects, rendered by %s in %v", dir, len(objs), rd.name, time.Since(start).Round(time.Millisecond))
		if first == nil {
			first, firstName = objs, rd.name
			continue
		}
		if err := sameObjects(first, objs); err != nil {
			t.Fatalf("%s: %s and %s render differently: %v", dir, firstName, rd.name, err)
		}
	}
	r, err := index(first)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return r
}
