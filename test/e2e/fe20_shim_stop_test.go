package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/privs"
)

// Fresh-eyes review fe20: a service with privilege settings starts through the shim, and uno
// reads the shim's report pipe until the exec closes it. The supervisor does that from its event
// loop: a shim stopped before its exec (SIGSTOP from anyone, a Ctrl-Z's SIGTSTP to the
// foreground service's group) holds the pipe open, and the loop with it, for as long as it
// stays stopped.

// catchShim polls uno's children until one is the privilege shim, stops it with sig and returns
// its pid (0 if none was seen before the deadline).
func catchShim(unoPid int, sig syscall.Signal) int {
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		for _, kid := range children(unoPid) {
			b, _ := os.ReadFile("/proc/" + strconv.Itoa(kid) + "/cmdline")
			if strings.HasPrefix(string(b), privs.ShimName+"\x00") {
				syscall.Kill(kid, sig)
				// Stopped as the shim, or it had exec'd already: then look again.
				for time.Now().Before(end) {
					if strings.HasPrefix(pidStatus(kid)["State"], "T") {
						b, _ := os.ReadFile("/proc/" + strconv.Itoa(kid) + "/cmdline")
						if strings.HasPrefix(string(b), privs.ShimName+"\x00") {
							return kid
						}
						syscall.Kill(kid, syscall.SIGCONT)
						break
					}
					if b, _ := os.ReadFile("/proc/" + strconv.Itoa(kid) + "/cmdline"); !strings.HasPrefix(string(b), privs.ShimName+"\x00") {
						break
					}
				}
			}
		}
	}
	return 0
}

// TestStoppedShimDoesNotHoldUpTheSupervisor: while one service's shim is stopped, uno must still start
// its other services and act on a SIGTERM, as it does while a program started without the shim
// is stopped. Found: the other service stayed "waiting" and a SIGTERM did nothing until the
// shim was continued (uno ctl, served elsewhere, still answered): 20 s, and for ever if nobody
// sends SIGCONT; as PID 1, docker stop's SIGKILL would end the container after its 10 s.
// internal/spawn's shimreport.go has the fix.
func TestStoppedShimDoesNotHoldUpTheSupervisor(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "uno.sock")
	cfg := filepath.Join(dir, "uno.toml")
	// flap restarts at once, each start through the shim (umask), so a poller finds one soon.
	conf := `
[services.flap]
command = ["/bin/true"]
umask = "0027"
restart = "always"
restart_delay = "1ms"
restart_delay_max = "1ms"

[services.steady]
command = ["sleep", "1000"]
`
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startUno(t, startOpts{mode: asSubreaper}, "--socket", sock, "-c", cfg)
	shim := 0
	for range 20 {
		if shim = catchShim(p.cmd.Process.Pid, syscall.SIGSTOP); shim != 0 {
			break
		}
	}
	if shim == 0 {
		t.Fatalf("no shim caught in 20 rounds: %s", p.stderr.String())
	}
	t.Cleanup(func() { syscall.Kill(shim, syscall.SIGCONT) })
	st := pidStatus(shim)
	t.Logf("shim %d stopped: %s %s", shim, st["Name"], st["State"])
	// The other service must start meanwhile: poll uno ctl status until steady runs.
	var last string
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		last = runCtl(t, sock, "status").stdout
		if regexp.MustCompile(`(?m)^steady\s+running`).MatchString(last) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !regexp.MustCompile(`(?m)^steady\s+running`).MatchString(last) {
		t.Errorf("steady is not running %v after the shim (pid %d) of flap was stopped: the supervisor waits on that shim's report pipe:\n%s", deadline, shim, last)
	}
	// SIGTERM: uno must stop steady (sleep) and exit, shim stopped or not.
	p.signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		t.Errorf("uno has not exited 5 s after SIGTERM, with shim %d stopped", shim)
		syscall.Kill(shim, syscall.SIGCONT)
		select {
		case <-p.exited:
			t.Logf("uno exited once the shim was continued")
		case <-time.After(deadline):
			t.Errorf("uno has not exited %v after the shim was continued either", deadline)
		}
	}
}
