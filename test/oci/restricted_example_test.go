package oci

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/uno-init/uno/internal/testbin"
)

// TestExampleKubernetesRestricted reads examples/kubernetes/restricted.yaml with a real YAML
// parser, checks that it asks for everything the "restricted" Pod Security Standard requires,
// and runs its image (examples/restricted/Dockerfile) under runc as the kubelet would run that
// Pod: the Pod's uid, no capability in any set, no_new_privs, a read-only root, an emptyDir on
// /tmp and the Secret's volume; then its probes, as the container's user, pass, and the secret is
// in the api's environment and in nothing uno prints.
func TestExampleKubernetesRestricted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: OCI runtimes create namespaces and cgroups")
	}
	manifest := filepath.Join(testbin.RepoRoot(), "examples/kubernetes/restricted.yaml")
	out, err := exec.Command("python3", "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", manifest).CombinedOutput()
	if err != nil {
		t.Fatalf("%s does not parse as YAML (python3-yaml is installed by make test): %v\n%s", manifest, err, out)
	}
	type securityContext struct {
		RunAsNonRoot             *bool
		RunAsUser                *int
		RunAsGroup               *int
		AllowPrivilegeEscalation *bool
		ReadOnlyRootFilesystem   *bool
		Capabilities             struct{ Drop, Add []string }
		SeccompProfile           struct{ Type string }
	}
	var pod struct {
		Kind string
		Spec struct {
			SecurityContext securityContext
			Containers      []struct {
				Image                         string
				SecurityContext               securityContext
				ReadinessProbe, LivenessProbe struct{ Exec struct{ Command []string } }
				VolumeMounts                  []struct {
					Name, MountPath string
					ReadOnly        bool
				}
			}
			Volumes []struct {
				Name     string
				EmptyDir *struct{}
				Secret   *struct{ SecretName string }
			}
		}
	}
	if err := json.Unmarshal(out, &pod); err != nil {
		t.Fatal(err)
	}
	if pod.Kind != "Pod" || len(pod.Spec.Containers) != 1 {
		t.Fatalf("want one Pod with one container, got %s with %d", pod.Kind, len(pod.Spec.Containers))
	}
	psc, ctr := pod.Spec.SecurityContext, pod.Spec.Containers[0]
	csc := ctr.SecurityContext
	// The restricted profile, as kubernetes.io/docs/concepts/security/pod-security-standards lists it.
	switch {
	case psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot:
		t.Errorf("spec.securityContext.runAsNonRoot is not true")
	case psc.RunAsUser == nil || *psc.RunAsUser == 0:
		t.Errorf("spec.securityContext.runAsUser is not a non-zero uid")
	case psc.SeccompProfile.Type != "RuntimeDefault" && psc.SeccompProfile.Type != "Localhost":
		t.Errorf("spec.securityContext.seccompProfile.type is %q", psc.SeccompProfile.Type)
	case csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation:
		t.Errorf("allowPrivilegeEscalation is not false")
	case !slices.Equal(csc.Capabilities.Drop, []string{"ALL"}) || len(csc.Capabilities.Add) > 0:
		t.Errorf("capabilities: drop %v, add %v; want drop [ALL] and nothing added", csc.Capabilities.Drop, csc.Capabilities.Add)
	case csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem:
		t.Errorf("readOnlyRootFilesystem is not true")
	}
	if t.Failed() {
		t.FailNow()
	}
	uid := *psc.RunAsUser
	gid := uid
	if psc.RunAsGroup != nil {
		gid = *psc.RunAsGroup
	}
	volumes := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.EmptyDir != nil:
			volumes[v.Name] = "emptyDir"
		case v.Secret != nil:
			volumes[v.Name] = "secret"
		}
	}

	img := buildImage(t, "examples/restricted/Dockerfile")
	if img.user != strconv.Itoa(uid)+":"+strconv.Itoa(gid) {
		t.Errorf("the image's USER is %q, the Pod's %d:%d: keep them the same", img.user, uid, gid)
	}
	const token = "restricted-example-token-51c3"
	spec := ociSpec(img.args, []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=uno-restricted"},
		img.rootfs, true, "uno-restricted", []string{})
	proc := spec["process"].(map[string]any)
	proc["user"] = map[string]any{"uid": uid, "gid": gid}
	proc["noNewPrivileges"] = true
	// No /tmp but the Pod's: the emptyDir is the tmpfs, the Secret a directory of files.
	var mounts []map[string]any
	for _, m := range spec["mounts"].([]map[string]any) {
		if m["destination"] != "/tmp" {
			mounts = append(mounts, m)
		}
	}
	for _, vm := range ctr.VolumeMounts {
		switch volumes[vm.Name] {
		case "emptyDir":
			// A kubelet's emptyDir is writable by the Pod's user.
			mounts = append(mounts, map[string]any{"destination": vm.MountPath, "type": "tmpfs", "source": "tmpfs",
				"options": []string{"nosuid", "nodev", "mode=1777"}})
			if err := os.MkdirAll(filepath.Join(img.rootfs, vm.MountPath), os.ModeSticky|0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(img.rootfs, vm.MountPath), os.ModeSticky|0o777); err != nil {
				t.Fatal(err)
			}
		case "secret":
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token), 0o644); err != nil {
				t.Fatal(err)
			}
			mounts = append(mounts, map[string]any{"destination": vm.MountPath, "type": "bind", "source": dir, "options": []string{"bind", "ro"}})
		default:
			t.Fatalf("volumeMount %s: no such volume, or a kind this test does not know", vm.Name)
		}
	}
	spec["mounts"] = mounts
	c := start(t, "runc", t.TempDir(), spec, "uno-restricted")
	probe := func(cmd []string) (int, string) {
		// The kubelet runs exec probes as the container's user.
		out, err := c.ctl(append([]string{"exec", "--user", strconv.Itoa(uid) + ":" + strconv.Itoa(gid), c.id}, cmd...)...)
		if err == nil {
			return 0, out
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), out
		}
		t.Fatalf("probe %q: %v", cmd, err)
		return 0, ""
	}
	c.waitFor("the readiness probe to pass", func() bool { code, _ := probe(ctr.ReadinessProbe.Exec.Command); return code == 0 })
	if code, out := probe(ctr.LivenessProbe.Exec.Command); code != 0 {
		t.Errorf("liveness probe: %d %s", code, out)
	}
	c.waitOutput("tick: the api serves")
	pid := strings.TrimSpace(c.exec("sh", "-c", `for p in /proc/[0-9]*; do grep -q "^httpd" $p/comm 2>/dev/null && echo ${p#/proc/}; done; true`))
	status := c.exec("cat", "/proc/"+pid+"/status")
	for _, want := range []string{"Uid:\t" + strconv.Itoa(uid), "CapBnd:\t0000000000000000", "CapEff:\t0000000000000000", "NoNewPrivs:\t1", "Umask:\t0077"} {
		if !strings.Contains(status, want) {
			t.Errorf("the api's status lacks %q:\n%s", want, status)
		}
	}
	if env := c.exec("cat", "/proc/"+pid+"/environ"); !strings.Contains(env, "API_TOKEN="+token) {
		t.Errorf("the api's environment lacks the token")
	}
	_, statusOut := probe([]string{"/usr/bin/uno", "ctl", "status", "--json"})
	if strings.Contains(c.stdout.String()+c.stderr.String()+statusOut, token) {
		t.Errorf("uno shows the secret")
	}
	c.kill("TERM")
	if code := c.wait(deadline); code != 0 {
		t.Errorf("exit %d after TERM\nstderr: %s", code, c.stderr.String())
	}
}
