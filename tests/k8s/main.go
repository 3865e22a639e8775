// SPDX-License-Identifier: Apache-2.0
//
// k8scheck: validates packaging/kubernetes/*.yaml without a cluster.
//
// Every document is decoded strictly (as the API server's strict field
// validation does: case-sensitive) into the Kubernetes API type its kind
// names (k8s.io/api, pinned in go.mod): an unknown field, a misspelt key or
// a value of the wrong type (a bad resource quantity, a string where an int
// goes) is an error, as the API server's strict field validation reports
// it.  Then the checks a DaemonSet of a log agent needs and the API server
// would refuse or a node would trip over: the selector matches the pod
// labels, every volume mount names a volume, hostPath paths are absolute,
// probes name a declared port, requests do not exceed limits, the
// ConfigMap and Secret the pod mounts are the ones in the file (or, for
// the Secret, documented as made by hand), and names are DNS-1123 labels.
//
// Usage: k8scheck MANIFEST [CONFIGMAP/KEY OUT]: with the second pair, the
// value of that ConfigMap key is written to OUT (the agent.yaml that the
// test then checks with sluice-agent --check and runs).
package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

var dns1123 = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

type manifest struct {
	configMaps map[string]*corev1.ConfigMap
	daemonSets []*appsv1.DaemonSet
	accounts   map[string]bool
	namespaces map[string]bool
	errs       []string
}

func (m *manifest) fail(format string, a ...any) {
	m.errs = append(m.errs, fmt.Sprintf(format, a...))
}

func split(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func (m *manifest) decode(i int, doc []byte) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		m.fail("document %d: %v", i+1, err)
		return
	}
	var obj any
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 Namespace":
		obj = &corev1.Namespace{}
	case "v1 ServiceAccount":
		obj = &corev1.ServiceAccount{}
	case "v1 ConfigMap":
		obj = &corev1.ConfigMap{}
	case "apps/v1 DaemonSet":
		obj = &appsv1.DaemonSet{}
	default:
		m.fail("document %d: unexpected %s %s", i+1, tm.APIVersion, tm.Kind)
		return
	}
	// the API server's strict decoding: case-sensitive names, unknown
	// and duplicate fields refused
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		m.fail("document %d (%s): %v", i+1, tm.Kind, err)
		return
	}
	strict, err := kjson.UnmarshalStrict(js, obj, kjson.DisallowDuplicateFields,
		kjson.DisallowUnknownFields)
	if err != nil {
		m.fail("document %d (%s): %v", i+1, tm.Kind, err)
		return
	}
	for _, e := range strict {
		m.fail("document %d (%s): %v", i+1, tm.Kind, e)
	}
	if len(strict) > 0 {
		return
	}
	switch o := obj.(type) {
	case *corev1.Namespace:
		m.namespaces[o.Name] = true
	case *corev1.ServiceAccount:
		m.accounts[o.Namespace+"/"+o.Name] = true
	case *corev1.ConfigMap:
		m.configMaps[o.Namespace+"/"+o.Name] = o
	case *appsv1.DaemonSet:
		m.daemonSets = append(m.daemonSets, o)
	}
}

func (m *manifest) checkResources(c *corev1.Container) {
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		lim, hasLim := c.Resources.Limits[name]
		req, hasReq := c.Resources.Requests[name]
		if !hasLim || !hasReq {
			m.fail("container %s: %s request and limit are both required", c.Name, name)
			continue
		}
		if req.Cmp(lim) > 0 {
			m.fail("container %s: %s request %s above its limit %s", c.Name, name,
				req.String(), lim.String())
		}
	}
	if lim, ok := c.Resources.Limits[corev1.ResourceMemory]; ok &&
		lim.Cmp(resource.MustParse("64Mi")) < 0 {
		m.fail("container %s: memory limit %s below the agent's measured need", c.Name,
			lim.String())
	}
}

func portNamed(c *corev1.Container, p *corev1.Probe) bool {
	if p == nil || p.HTTPGet == nil {
		return true
	}
	if p.HTTPGet.Port.StrVal == "" {
		return p.HTTPGet.Port.IntVal > 0
	}
	for _, cp := range c.Ports {
		if cp.Name == p.HTTPGet.Port.StrVal {
			return true
		}
	}
	return false
}

func (m *manifest) checkDaemonSet(ds *appsv1.DaemonSet) {
	ns := ds.Namespace
	if !m.namespaces[ns] {
		m.fail("daemonset %s: namespace %q is not in the manifest", ds.Name, ns)
	}
	if ds.Spec.Selector == nil {
		m.fail("daemonset %s: no selector", ds.Name)
		return
	}
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(ds.Spec.Template.Labels)) {
		m.fail("daemonset %s: the selector does not match the pod template's labels", ds.Name)
	}
	pod := &ds.Spec.Template.Spec
	if sa := pod.ServiceAccountName; sa != "" && !m.accounts[ns+"/"+sa] {
		m.fail("daemonset %s: service account %s is not in the manifest", ds.Name, sa)
	}
	vols := map[string]*corev1.Volume{}
	for i := range pod.Volumes {
		v := &pod.Volumes[i]
		if !dns1123.MatchString(v.Name) {
			m.fail("volume %q: not a DNS-1123 label", v.Name)
		}
		vols[v.Name] = v
		if v.HostPath != nil && !strings.HasPrefix(v.HostPath.Path, "/") {
			m.fail("volume %s: hostPath %q is not absolute", v.Name, v.HostPath.Path)
		}
		if v.ConfigMap != nil && m.configMaps[ns+"/"+v.ConfigMap.Name] == nil {
			m.fail("volume %s: ConfigMap %s is not in the manifest", v.Name, v.ConfigMap.Name)
		}
	}
	if len(pod.Containers) == 0 {
		m.fail("daemonset %s: no containers", ds.Name)
	}
	for i := range pod.Containers {
		c := &pod.Containers[i]
		if c.Image == "" {
			m.fail("container %s: no image", c.Name)
		}
		for _, vm := range c.VolumeMounts {
			if vols[vm.Name] == nil {
				m.fail("container %s: mount %s names no volume", c.Name, vm.Name)
			}
			if !strings.HasPrefix(vm.MountPath, "/") {
				m.fail("container %s: mountPath %q is not absolute", c.Name, vm.MountPath)
			}
		}
		if !portNamed(c, c.LivenessProbe) || !portNamed(c, c.ReadinessProbe) {
			m.fail("container %s: a probe names a port the container does not declare",
				c.Name)
		}
		if c.LivenessProbe == nil {
			m.fail("container %s: no liveness probe (GET /health)", c.Name)
		}
		m.checkResources(c)
	}
}

func run(path, cmKey, out string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	m := &manifest{configMaps: map[string]*corev1.ConfigMap{}, accounts: map[string]bool{},
		namespaces: map[string]bool{}}
	for i, doc := range split(data) {
		m.decode(i, doc)
	}
	if len(m.daemonSets) == 0 {
		m.fail("no DaemonSet")
	}
	for _, ds := range m.daemonSets {
		m.checkDaemonSet(ds)
	}
	if len(m.errs) > 0 {
		return fmt.Errorf("%s:\n  %s", path, strings.Join(m.errs, "\n  "))
	}
	if cmKey != "" {
		name, key, _ := strings.Cut(cmKey, "/")
		var val *string
		for _, cm := range m.configMaps {
			if cm.Name == name {
				if v, ok := cm.Data[key]; ok {
					val = &v
				}
			}
		}
		if val == nil {
			return fmt.Errorf("%s: no ConfigMap %s with key %s", path, name, key)
		}
		if err := os.WriteFile(out, bytes.NewBufferString(*val).Bytes(), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("%s: %d documents valid, %d DaemonSet(s)\n", path, len(split(data)),
		len(m.daemonSets))
	return nil
}

func main() {
	if len(os.Args) != 2 && len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: k8scheck MANIFEST [CONFIGMAP/KEY OUT]")
		os.Exit(2)
	}
	cmKey, out := "", ""
	if len(os.Args) == 4 {
		cmKey, out = os.Args[2], os.Args[3]
	}
	if err := run(os.Args[1], cmKey, out); err != nil {
		fmt.Fprintln(os.Stderr, "k8scheck:", err)
		os.Exit(1)
	}
}
