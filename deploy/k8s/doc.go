// Package k8s holds no code: its tests render the Kubernetes manifests in
// this directory (the kustomize base, its overlays and components) and check
// them offline. They render with `kubectl kustomize` where kubectl is on the
// PATH and always with the kustomize Go library, so that a machine without
// kubectl tests the same manifests; decode every object strictly into its
// k8s.io/api type; and check what the deployment relies on (probes, drain,
// selectors, Secrets, the NATS configuration, the documented environment).
// docs/kubernetes.md describes the deployment itself.
package k8s
