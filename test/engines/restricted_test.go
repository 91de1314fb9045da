package engines

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// restrictedConf runs two services with least privilege; the secret is mounted as Docker and
// Kubernetes mount theirs, and must reach web's environment and nothing uno prints.
const restrictedConf = `[uno]
no_new_privileges = true

[services.web]
command = ["sh", "-c", 'grep -E "^(Uid|CapBnd|CapEff|CapAmb|NoNewPrivs|Umask)" /proc/self/status; echo "token-length=$${#TOKEN}"; echo web-up; exec sleep 1000']
capabilities = []
umask = "0077"
rlimits = { nofile = [256, 512] }
secrets = { TOKEN = "/run/secrets/token" }

[services.worker]
command = ["sh", "-c", 'echo worker-up; exec sleep 1000']
depends_on = ["web"]
`

const restrictedSecret = "engine-planted-secret-9d2e"

func restrictedImage(t *testing.T) (image, secret string) {
	t.Helper()
	ctx := t.TempDir()
	dockerfile := "FROM " + baseImage + "\nCOPY uno.toml /etc/uno/uno.toml\nUSER 1000\n" + `ENTRYPOINT ["/usr/bin/uno"]` + "\n"
	for name, content := range map[string]string{"uno.toml": restrictedConf, "Dockerfile": dockerfile} {
		if err := os.WriteFile(filepath.Join(ctx, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	secret = filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte(restrictedSecret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return buildImage(t, "uno-e2e-restricted", ctx), secret
}

// TestDockerRestricted: docker run --user 1000 --read-only --cap-drop ALL
// --security-opt no-new-privileges with uno as ENTRYPOINT running services: they run as uid 1000
// with no capability, no_new_privs, their umask and rlimits and the mounted secret. With nothing
// writable uno says once that it has no control socket; with a tmpfs on /tmp its socket goes to
// /tmp/uno-1000 and uno ctl reaches it; docker stop stops both promptly with status 0.
func TestDockerRestricted(t *testing.T) {
	needEngine(t)
	image, secret := restrictedImage(t)
	for _, tmpfs := range []bool{false, true} {
		args := []string{"--user", "1000", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
			"-v", secret + ":/run/secrets/token:ro"}
		if tmpfs {
			args = append(args, "--tmpfs", "/tmp")
		}
		id := run(t, append(args, image)...)
		t.Cleanup(func() {
			if t.Failed() {
				out, _ := dockerCmd(t, "logs", id)
				t.Logf("tmpfs %v: the container's log:\n%s", tmpfs, out)
			}
		})
		waitLog(t, id, "worker-up")
		logs := mustDocker(t, "logs", id)
		for _, want := range []string{"Uid:\t1000\t1000\t1000\t1000", "CapBnd:\t0000000000000000", "CapEff:\t0000000000000000",
			"CapAmb:\t0000000000000000", "NoNewPrivs:\t1", "Umask:\t0077", "token-length=" + strconv.Itoa(len(restrictedSecret))} {
			if !strings.Contains(logs, want) {
				t.Errorf("tmpfs %v: the log lacks %q:\n%s", tmpfs, want, logs)
			}
		}
		m := regexp.MustCompile(`service started service=web pid=(\d+)`).FindStringSubmatch(logs)
		if m == nil {
			t.Fatalf("no pid for web in the log")
		}
		limits := mustDocker(t, "exec", id, "grep", "open files", "/proc/"+m[1]+"/limits")
		if !strings.Contains(limits, "256") || !strings.Contains(limits, "512") {
			t.Errorf("web's nofile limit: %s", limits)
		}
		if tmpfs {
			if !strings.Contains(logs, "control socket listening path=/tmp/uno-1000/uno.sock") {
				t.Errorf("uno did not say where its socket went:\n%s", logs)
			}
			status := mustDocker(t, "exec", id, "uno", "ctl", "status")
			if !strings.Contains(status, "web") || !strings.Contains(status, "running") {
				t.Errorf("uno ctl status in the container:\n%s", status)
			}
			json := mustDocker(t, "exec", id, "uno", "ctl", "status", "--json")
			if strings.Contains(json, restrictedSecret) {
				t.Errorf("uno ctl status --json shows the secret:\n%s", json)
			}
		} else if n := strings.Count(logs, "control socket not available"); n != 1 {
			t.Errorf("uno said %d times that it runs without a socket:\n%s", n, logs)
		}
		if took := timedStop(t, id); took > promptStop {
			t.Errorf("docker stop took %v", took)
		}
		if code := exitCode(t, id); code != "0" {
			t.Errorf("exit code %s, want 0", code)
		}
		if logs := mustDocker(t, "logs", id); strings.Contains(logs, restrictedSecret) {
			t.Errorf("the container's log shows the secret:\n%s", logs)
		}
	}
}
