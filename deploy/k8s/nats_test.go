package k8s

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	cryptotls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// checkNATS checks the NATS StatefulSet and loads its configuration with
// the nats-server this module is tested against, in the environment the
// pod would give it.
func checkNATS(t *testing.T, r *rendering, tls bool) {
	s := natsStatefulSet(t, r)
	pod := &s.Spec.Template
	c := &pod.Spec.Containers[0]
	if s.Spec.Replicas == nil || *s.Spec.Replicas != natsReplicas {
		t.Fatalf("NATS runs %v servers, want %d", s.Spec.Replicas, natsReplicas)
	}
	if s.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Error("NATS servers must start in parallel: none is healthy before a quorum is up")
	}
	headless, ok := r.services[s.Spec.ServiceName]
	if !ok || headless.Spec.ClusterIP != corev1.ClusterIPNone || !headless.Spec.PublishNotReadyAddresses ||
		!labels.SelectorFromSet(headless.Spec.Selector).Matches(labels.Set(pod.Labels)) {
		t.Errorf("StatefulSet %s: its serviceName %q must be a headless Service of its pods that publishes them before they are ready", s.Name, s.Spec.ServiceName)
	}
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || !strings.HasPrefix(p.HTTPGet.Path, "/healthz") || containerPort(c, p.HTTPGet.Port) != 8222 {
			t.Errorf("NATS: want a %s probe on /healthz, port 8222", name)
		}
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[res]; !ok {
			t.Errorf("NATS: no %s request", res)
		}
	}

	// Lay the pod's files out under a temporary root: the ConfigMap's
	// files, a generated certificate in each mounted Secret, and every
	// path of a mount rewritten to its place under root.
	root := t.TempDir()
	var mounts []string
	for _, m := range c.VolumeMounts {
		mounts = append(mounts, m.MountPath)
	}
	slices.SortFunc(mounts, func(a, b string) int { return len(b) - len(a) }) // longest first
	var pairs []string
	for _, m := range mounts {
		pairs = append(pairs, m, filepath.Join(root, m))
	}
	rooted := strings.NewReplacer(pairs...)
	var conf strings.Builder
	for _, m := range c.VolumeMounts {
		dir := filepath.Join(root, m.MountPath)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, v := range pod.Spec.Volumes {
			switch {
			case v.Name != m.Name:
			case v.ConfigMap != nil:
				cm, ok := r.configMaps[v.ConfigMap.Name]
				if !ok {
					t.Fatalf("NATS mounts ConfigMap %s, which is not there", v.ConfigMap.Name)
				}
				for name, data := range cm.Data {
					conf.WriteString(data)
					writeFile(t, filepath.Join(dir, name), rooted.Replace(data))
				}
			case v.Secret != nil:
				writeCertificate(t, dir)
			}
		}
	}

	// The environment: every $NAME the configuration reads, and nothing
	// else but the Go runtime's GOMEMLIMIT.
	referenced := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(conf.String(), -1) {
		referenced[m[1]] = true
	}
	podName := s.Name + "-0"
	var secretUser, secretPassword string
	for _, e := range c.Env {
		if !referenced[e.Name] && e.Name != "GOMEMLIMIT" {
			t.Errorf("NATS: %s is set, but nats.conf does not read it", e.Name)
		}
		value := e.Value
		switch f := e.ValueFrom; {
		case f == nil:
		case f.FieldRef != nil && f.FieldRef.FieldPath == "metadata.name":
			value = podName
		case f.SecretKeyRef != nil:
			value = "createdByHand" + e.Name
			if sec, ok := r.secrets[f.SecretKeyRef.Name]; ok {
				value = secretValue(sec, f.SecretKeyRef.Key)
			}
		case f.ResourceFieldRef != nil:
			continue
		default:
			t.Errorf("NATS: %s comes from somewhere this test cannot follow", e.Name)
		}
		switch e.Name {
		case "NATS_USER":
			secretUser = value
		case "NATS_PASSWORD":
			secretPassword = value
		}
		t.Setenv(e.Name, value)
	}

	args := append(slices.Clone(c.Command), c.Args...)
	i := slices.Index(args, "--config")
	if i < 0 || i+1 == len(args) {
		t.Fatalf("NATS runs %v, with no --config", args)
	}
	opts, err := server.ProcessConfigFile(filepath.Join(root, args[i+1]))
	if err != nil {
		t.Fatalf("nats-server rejects its configuration: %v", err)
	}

	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if opts.ServerName != podName {
		t.Errorf("NATS server_name %q, want the pod name %q", opts.ServerName, podName)
	}
	if int32(opts.Port) != ports["client"] || int32(opts.Cluster.Port) != ports["cluster"] || int32(opts.HTTPPort) != ports["monitor"] {
		t.Errorf("NATS listens on %d, %d (routes), %d (monitoring); the container ports are %v", opts.Port, opts.Cluster.Port, opts.HTTPPort, ports)
	}
	if opts.Username != secretUser || opts.Password != secretPassword || opts.Username == "" {
		t.Errorf("NATS authorization: the server reads user %q, password %d bytes; the Secret has %q, %d bytes (letters and digits only: nats.conf parses the value)",
			opts.Username, len(opts.Password), secretUser, len(secretPassword))
	}

	// JetStream, on the volume, within its limits.
	if !opts.JetStream {
		t.Fatal("JetStream is off in nats.conf")
	}
	var pvcSize int64
	for _, pvc := range s.Spec.VolumeClaimTemplates {
		for _, m := range c.VolumeMounts {
			if m.Name == pvc.Name && strings.HasPrefix(opts.StoreDir+"/", filepath.Join(root, m.MountPath)+"/") {
				pvcSize = pvc.Spec.Resources.Requests.Storage().Value()
			}
		}
	}
	if pvcSize == 0 {
		t.Errorf("JetStream stores in %s, which is on no persistent volume claim", opts.StoreDir)
	} else if opts.JetStreamMaxStore <= 0 || opts.JetStreamMaxStore >= pvcSize {
		t.Errorf("JetStream max_file_store %d must be set and below the volume's %d bytes", opts.JetStreamMaxStore, pvcSize)
	}
	if limit := c.Resources.Limits.Memory().Value(); opts.JetStreamMaxMemory <= 0 || opts.JetStreamMaxMemory >= limit {
		t.Errorf("JetStream max_memory_store %d must be set and below the memory limit of %d bytes", opts.JetStreamMaxMemory, limit)
	}

	// Routes to every server, by its name under the headless Service.
	var routes, want []string
	for _, u := range opts.Routes {
		routes = append(routes, u.Host)
	}
	for i := range natsReplicas {
		want = append(want, fmt.Sprintf("%s-%d.%s:%d", s.Name, i, s.Spec.ServiceName, ports["cluster"]))
	}
	slices.Sort(routes)
	if !slices.Equal(routes, want) || opts.Cluster.Name == "" {
		t.Errorf("NATS routes %v, want %v in a named cluster", routes, want)
	}

	// Lame duck mode on preStop, within the grace period.
	var pre []string
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Exec != nil {
		pre = c.Lifecycle.PreStop.Exec.Command
	}
	if opts.PidFile == "" || !slices.Contains(pre, "ldm="+strings.TrimPrefix(opts.PidFile, root)) {
		t.Errorf("NATS preStop %v must signal ldm to the pid_file %q", pre, opts.PidFile)
	}
	grace := *pod.Spec.TerminationGracePeriodSeconds
	if ldm := opts.LameDuckDuration + opts.LameDuckGracePeriod; ldm <= 0 || ldm >= time.Duration(grace)*time.Second {
		t.Errorf("NATS lame duck mode takes %v, which must fit in terminationGracePeriodSeconds %d", ldm, grace)
	}

	// TLS for clients exactly where edges and workers use it.
	mutual := opts.TLSConfig != nil && opts.TLSConfig.ClientAuth == cryptotls.RequireAndVerifyClientCert
	if (opts.TLSConfig != nil) != tls || mutual != tls {
		t.Errorf("NATS client TLS %v, mutual %v; want both %v", opts.TLSConfig != nil, mutual, tls)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeCertificate writes a self-signed certificate that serves as CA,
// server and client certificate, in cert-manager's file names.
func writeCertificate(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "nats"},
		DNSNames:              []string{"nats"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, filepath.Join(dir, "ca.crt"), cert)
	writeFile(t, filepath.Join(dir, "tls.crt"), cert)
	writeFile(t, filepath.Join(dir, "tls.key"), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})))
}
