package e2e

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/uno-init/uno/internal/testbin"
)

// TestSecretsNeverLeak plants secrets (a secrets table, and the NAME_FILE convention) and
// greps every channel uno writes to for their values: its stdout and stderr at -vv, uno ctl
// status in both forms, /status, /readyz and /healthz over --http, and uno check. The service
// proves it got them by writing them to a file of its own.
func TestSecretsNeverLeak(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	values := []string{"planted-secret-4f1c9a", "planted-file-secret-77e0b2"}
	paths := []string{filepath.Join(dir, "token"), filepath.Join(dir, "token2")}
	for i := range values {
		if err := os.WriteFile(paths[i], []byte(values[i]+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`
[services.app]
command = ["sh", "-c", "printf '%%s|%%s|%%s' \"$$TOKEN\" \"$$TOKEN2\" \"$${TOKEN2_FILE-unset}\" > %[1]s/seen; exec sleep 1000"]
secrets = { TOKEN = "%[2]s" }
env_file_suffix = "_FILE"
ready = { file = "%[1]s/seen", interval = "10ms" }

[services.broken]
command = ["true"]
secrets = { TOKEN = "%[1]s/missing" }
essential = false
`, dir, paths[0])
	cfgPath, _ := servicesSetup(t, conf)
	socket := filepath.Join(socketDir(t), "uno.sock")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	// env_file_suffix takes every NAME_FILE uno is given (docs/services.md says so): the test's
	// own environment may have some (TF_CLI_CONFIG_FILE) that name no file.
	var env []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !strings.HasSuffix(name, "_FILE") {
			env = append(env, kv)
		}
	}
	env = append(env, "TOKEN2_FILE="+paths[1])
	cmd := exec.Command(testbin.Uno(t), "-vv", "-c", cfgPath, "--socket", socket, "--http", addr)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	p := startCmd(t, cmd)
	poll(t, "the service's file", func() bool { _, err := os.Stat(filepath.Join(dir, "seen")); return err == nil })
	if got, want := readTrim(t, filepath.Join(dir, "seen")), values[0]+"|"+values[1]+"|unset"; got != want {
		t.Errorf("the service saw %q, want %q (TOKEN2_FILE replaced by TOKEN2)", got, want)
	}
	waitState(t, socket, "app", "running")
	waitState(t, socket, "broken", "failed")

	outputs := map[string]string{}
	for _, args := range [][]string{{"status"}, {"status", "--json"}, {"status", "app"}, {"status", "--json", "app", "broken"}} {
		r := runCtl(t, socket, args...)
		outputs["uno ctl "+strings.Join(args, " ")] = r.stdout + r.stderr
	}
	get := func(path string) string {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return err.Error()
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
		data, _ := io.ReadAll(conn)
		return string(data)
	}
	for _, path := range []string{"/status", "/readyz", "/healthz"} {
		outputs[path] = get(path)
	}
	if !strings.Contains(outputs["/status"], `"name":"app"`) {
		t.Errorf("/status did not answer: %s", outputs["/status"])
	}
	check := exec.Command(testbin.Uno(t), "check", "-c", cfgPath)
	check.Env = env
	out, _ := check.CombinedOutput()
	outputs["uno check"] = string(out)
	if !strings.Contains(string(out), "secret TOKEN (services.broken.secrets.TOKEN)") || !strings.Contains(string(out), dir+"/missing") {
		t.Errorf("uno check does not name the failing secret and its file:\n%s", out)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0) // stopped by SIGTERM, no main program: 0
	<-p.stderrDone
	outputs["uno's stdout"] = strings.Join(p.seen, "\n") + strings.Join(p.rest(), "\n")
	outputs["uno's stderr (-vv)"] = p.stderr.String()
	if !strings.Contains(outputs["uno's stderr (-vv)"], dir+"/missing") {
		t.Errorf("the failed secret's path is not in uno's log:\n%s", outputs["uno's stderr (-vv)"])
	}
	for where, text := range outputs {
		for _, v := range values {
			if strings.Contains(text, v) {
				t.Errorf("%s shows the secret %q:\n%s", where, v, text)
			}
		}
	}
}

// TestSecretFiles: a secret that cannot be read is a failed start naming the variable and the
// path, never a hang (a FIFO), a flood (/dev/zero) or a truncated value; uno check says the same
// before anything starts.
func TestSecretFiles(t *testing.T) {
	needRoot(t)
	dir := helperDir(t)
	write := func(name string, data []byte, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	large := write("large", make([]byte, 64<<10+1), 0o644)
	limit := write("limit", []byte(strings.Repeat("x", 64<<10)), 0o644)
	unreadable := write("unreadable", []byte("x"), 0o600)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(unreadable, link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	nul := write("nul", []byte("a\x00b"), 0o644)
	crlf := write("crlf", []byte("value\r\n"), 0o644)
	cases := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "missing"), "open " + dir + "/missing: no such file or directory"},
		{"fifo", fifo, "read " + fifo + ": not a regular file (a FIFO)"},
		{"zero", "/dev/zero", "read /dev/zero: not a regular file (a character device)"},
		{"dir", dir, "read " + dir + ": not a regular file (a directory)"},
		{"large", large, "read " + large + ": larger than 64 KiB"},
		{"dangling", dangling, "open " + dangling + ": no such file or directory"},
		{"nul", nul, nul + ": contains a NUL byte"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conf := fmt.Sprintf("[services.s]\ncommand = [\"true\"]\nsecrets = { S = %q }\n", c.path)
			p, _ := startServices(t, startOpts{mode: asPID1}, conf, "--no-socket")
			p.expectExit(1)
			<-p.stderrDone
			if want := "secret S (services.s.secrets.S): " + c.want; !strings.Contains(p.stderr.String(), want) {
				t.Errorf("uno's log lacks %q:\n%s", want, p.stderr.String())
			}
			cfgPath, _ := servicesSetup(t, conf)
			out, err := exec.Command(testbin.Uno(t), "check", "-c", cfgPath).CombinedOutput()
			if err == nil || !strings.Contains(string(out), c.want) {
				t.Errorf("uno check: %v\n%s", err, out)
			}
		})
	}
	// At the bound, and with a CR LF ending: read whole, the one line ending dropped.
	conf := fmt.Sprintf(`
[services.s]
type = "oneshot"
command = ["sh", "-c", "printf '%%s' \"$$S\" | wc -c; printf '<%%s>' \"$$C\""]
secrets = { S = %q, C = %q }
`, limit, crlf)
	p, _ := startServices(t, startOpts{mode: asPID1}, conf, "--no-socket")
	p.expect(`^s \| 65536$`)
	p.expect(`^s \| <value>$`)
	p.expectExit(0)

	// As a non-root uno, a root-only file (and a link to it) is unreadable: the error says so.
	for _, path := range []string{unreadable, link} {
		conf := fmt.Sprintf("[services.s]\ncommand = [\"true\"]\nsecrets = { S = %q }\n", path)
		cfgPath := filepath.Join(dir, "uno.toml")
		if err := os.WriteFile(cfgPath, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(reachableUno(t), "--no-socket", "-c", cfgPath)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), path+": permission denied") {
			t.Errorf("non-root uno, secret %s: %v\n%s", path, err, out)
		}
	}
}
