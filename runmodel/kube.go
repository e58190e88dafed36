package runmodel

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Kubernetes manifests in the repository say how the image is deployed:
// the uid a pod runs it as (securityContext.runAsUser), which the user
// harden creates should match so that file ownership agrees, and the
// container ports, which as non-root must be above 1024 on a cluster that
// does not allow unprivileged low ports.

// podWorkloads hold a pod template.
var podWorkloads = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true,
	"Job": true, "CronJob": true, "Pod": true}

type kubeDoc struct {
	Kind string    `yaml:"kind"`
	Spec yaml.Node `yaml:"spec"`
}

type podSpec struct {
	SecurityContext *securityContext `yaml:"securityContext"`
	Containers      []struct {
		Name            string           `yaml:"name"`
		Image           string           `yaml:"image"`
		SecurityContext *securityContext `yaml:"securityContext"`
		Ports           []struct {
			ContainerPort int `yaml:"containerPort"`
		} `yaml:"ports"`
	} `yaml:"containers"`
}

type securityContext struct {
	RunAsUser *int `yaml:"runAsUser"`
}

// kubernetes reads workload manifests in the build context.
func (a *analysis) kubernetes() {
	ctx := a.in.Context
	if ctx == nil {
		return
	}
	var uids []Port
	for _, p := range contextListing(ctx).manifests {
		data, err := a.read(p)
		if err != nil || !bytes.Contains(data, []byte("containers:")) {
			continue
		}
		for _, spec := range podSpecs(data) {
			for _, c := range spec.Containers {
				uid := spec.SecurityContext
				if c.SecurityContext != nil && c.SecurityContext.RunAsUser != nil {
					uid = c.SecurityContext
				}
				if uid != nil && uid.RunAsUser != nil {
					uids = append(uids, Port{Number: *uid.RunAsUser, Setting: "kubernetes", Why: Evidence{File: p, Why: "container " + c.Name + " runs as uid " + itoa(*uid.RunAsUser)}})
				}
				for _, port := range c.Ports {
					if port.ContainerPort > 0 {
						a.m.addPort(Port{Number: port.ContainerPort, Setting: "kubernetes", Why: Evidence{File: p, Why: "container " + c.Name + " declares containerPort " + itoa(port.ContainerPort)}})
					}
				}
			}
		}
	}
	// Only an unambiguous uid is used: several apps in one repository may
	// run as different users.
	if len(uids) > 0 {
		same := true
		for _, u := range uids[1:] {
			same = same && u.Number == uids[0].Number
		}
		if same && uids[0].Number > 0 {
			a.m.RunAsUser = &uids[0]
		}
	}
}

// podSpecs decodes every pod template of a (multi-document) manifest.
func podSpecs(data []byte) []podSpec {
	var out []podSpec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; i < 50; i++ {
		var doc kubeDoc
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			break // Helm templates and other non-YAML: nothing to read
		}
		if !podWorkloads[doc.Kind] {
			continue
		}
		node := &doc.Spec
		switch doc.Kind {
		case "Pod":
		case "CronJob":
			node = child(child(child(child(node, "jobTemplate"), "spec"), "template"), "spec")
		default:
			node = child(child(node, "template"), "spec")
		}
		if node == nil {
			continue
		}
		var spec podSpec
		if node.Decode(&spec) == nil {
			out = append(out, spec)
		}
	}
	return out
}

func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if strings.EqualFold(n.Content[i].Value, key) {
			return n.Content[i+1]
		}
	}
	return nil
}
