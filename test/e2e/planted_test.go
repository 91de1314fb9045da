package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestPlantedSocketDir: uno running as a user that cannot write /run keeps its socket in a
// per-user directory ($XDG_RUNTIME_DIR/uno here, /tmp/uno-UID without it) where another user can
// make it first. uno must refuse a directory it does not own, say why, and run its program all
// the same without a socket; and uno ctl must not believe an answer from that directory.
func TestPlantedSocketDir(t *testing.T) {
	needRoot(t)
	base := socketDir(t) // 0755, root's: the user may go through, not create
	planted := filepath.Join(base, "uno")
	// Another user (root, to uid 65534) makes the directory first, open to all.
	if err := os.Mkdir(planted, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(planted, 0o777); err != nil {
		t.Fatal(err)
	}
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+base)
	cmd := exec.Command(reachableUno(t), "--", "/bin/sh", "-c", "echo up; exec sleep 1000")
	cmd.Env, cmd.Dir = env, "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
	p := startCmd(t, cmd)
	p.expect(`^up$`)
	want := "refusing directory " + planted + ": it is owned by uid 0, not 65534"
	poll(t, "uno's refusal of "+planted, func() bool { return strings.Contains(p.stderr.String(), want) })
	if !strings.Contains(p.stderr.String(), "control socket not available") {
		t.Errorf("uno's log does not say the socket is not available:\n%s", p.stderr.String())
	}
	if entries, _ := os.ReadDir(planted); len(entries) != 0 {
		t.Errorf("uno put %v in the planted directory", entries[0].Name())
	}

	// The other user answers there as uno would: uno ctl must not take its word.
	socket := filepath.Join(planted, "uno.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := os.Chmod(socket, 0o777); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Write([]byte(`{"v":1,"ok":true,"message":"ready: forged"}` + "\n"))
			conn.Close()
		}
	}()
	ctl := exec.Command(reachableUno(t), "ctl", "--socket", socket, "ready")
	ctl.Env, ctl.Dir = env, "/"
	ctl.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
	out, err := ctl.CombinedOutput()
	if code := ctl.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), want) {
		t.Errorf("uno ctl ready in the planted directory: exit %d (%v), %q; want 1 and %q", code, err, out, want)
	}

	// The program ran on without the socket, and ends as usual.
	p.signal(syscall.SIGTERM)
	p.expectExit(143)
}
