package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestServiceUserCannotPlantLogSymlinks: uno runs as root, a service as nobody, whose log
// directory nobody owns (as /var/log/app often belongs to the app's user). The service plants
// symlinks at the names uno writes and reads at rotation, compression and its path check: uno
// must neither write through them (to a root file it could not write) nor compress what they
// point to (a root secret) into a .gz the service can read.
func TestServiceUserCannotPlantLogSymlinks(t *testing.T) {
	needRoot(t)
	top := t.TempDir()
	logDir := filepath.Join(top, "logs")
	if err := os.Mkdir(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Dir(top), top} {
		if err := os.Chmod(d, 0o755); err != nil && d == top {
			t.Fatal(err)
		}
	}
	if err := os.Chown(logDir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	const passwd = "root:x:0:0:root:/root:/bin/sh\n"
	victims := filepath.Join(top, "etc")
	if err := os.Mkdir(victims, 0o700); err != nil {
		t.Fatal(err)
	}
	writable := []string{filepath.Join(victims, "passwd"), filepath.Join(victims, "group")}
	for _, v := range writable {
		if err := os.WriteFile(v, []byte(passwd), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(victims, "shadow")
	if err := os.WriteFile(secret, []byte("root:TOPSECRET:19000::::::\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(logDir, "api.log")
	p, _, _, _ := startControlled(t, fmt.Sprintf(`
[services.api]
user = "nobody"
command = ["sh", "-c", '''
ln -s %s %s.gz-tmp && ln -s %s %s.1 && echo planted
i=0; while [ $$i -lt 2000 ]; do echo "hacked::0:0::/:/bin/sh $$i"; i=$$((i+1)); done
n=0; while [ $$(ls %s.*.gz 2>/dev/null | wc -l) -lt 5 ] && [ $$n -lt 2000 ]; do sleep 0.01; n=$$((n+1)); done
rm -f %s && ln -s %s %s && echo replaced
sleep 2; echo "hacked::0:0::/:/bin/sh after"; echo done; exec sleep 1000
''']
log_file = %q
log_max_size = "4KiB"
log_max_files = 50
log_compress = true
log_tee = true
`, writable[0], logFile, secret, logFile, logFile, logFile, writable[1], logFile, logFile))
	p.expect(`^api +\| planted$`)
	p.expect(`^api +\| replaced$`)
	p.expect(`^api +\| done$`)
	defer func() {
		if t.Failed() {
			out, _ := exec.Command("ls", "-la", logDir).CombinedOutput()
			t.Logf("%s\n%s", out, p.stderr.String())
		}
	}()
	poll(t, "the rotated files compressed", func() bool {
		// The service's lines go to stdout once it replaced its file with a symlink, and a
		// rotation that found it gone: only the ones before are in the files.
		rotated, _ := filepath.Glob(logFile + ".*")
		plain, gz := 0, 0
		for _, f := range rotated {
			if st, err := os.Lstat(f); err == nil && st.Mode().IsRegular() {
				if filepath.Ext(f) == ".gz" {
					gz++
				} else {
					plain++
				}
			}
		}
		return plain == 0 && gz >= 5
	})
	for _, v := range writable {
		if data, _ := os.ReadFile(v); string(data) != passwd {
			t.Errorf("%s written through a planted symlink: %q", v, data)
		}
	}
	gz, _ := filepath.Glob(logFile + ".*.gz")
	for _, name := range gz {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		data, _ := io.ReadAll(zr)
		f.Close()
		if bytes.Contains(data, []byte("TOPSECRET")) {
			st, _ := os.Stat(name)
			t.Errorf("%s (mode %v, uid %d) holds the secret", name, st.Mode(), st.Sys().(*syscall.Stat_t).Uid)
		}
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}
