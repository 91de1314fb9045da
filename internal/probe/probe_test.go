package probe

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uno-init/uno/internal/reaper"
	"github.com/uno-init/uno/internal/spawn"
)

// serve answers every connection on a fresh local port with response, and returns the address.
func serve(t *testing.T, response string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			n, _ := c.Read(buf)
			if !strings.HasPrefix(string(buf[:n]), "GET /healthz?x=1 HTTP/1.1\r\nHost: ") {
				response = "HTTP/1.1 400 Bad Request\r\n\r\n"
			}
			_, _ = c.Write([]byte(response))
			c.Close()
		}
	}()
	return l.Addr().String()
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestHTTP(t *testing.T) {
	cases := []struct {
		response string
		wantErr  string
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ""},
		{"HTTP/1.0 204 No Content\r\n\r\n", ""},
		{"HTTP/1.1 503 Service Unavailable\r\n\r\n", "HTTP status 503"},
		{"HTTP/1.1 301 Moved\r\nLocation: /x\r\n\r\n", "HTTP status 301"},
		{"SSH-2.0-OpenSSH\r\n", "not an HTTP response"},
	}
	for _, c := range cases {
		check, err := HTTP("http://" + serve(t, c.response) + "/healthz?x=1")
		if err != nil {
			t.Fatal(err)
		}
		err = check(ctx(t))
		if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("response %q: error %v, want %q", c.response, err, c.wantErr)
		}
	}
	if _, err := HTTP("https://127.0.0.1/"); err == nil {
		t.Error("https accepted")
	}
}

func TestTCPAndFile(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := TCP(addr)(ctx(t)); err != nil {
		t.Errorf("listening port: %v", err)
	}
	l.Close()
	if err := TCP(addr)(ctx(t)); err == nil {
		t.Error("closed port counted as ready")
	}

	path := filepath.Join(t.TempDir(), "ready")
	if err := File(path)(ctx(t)); err == nil {
		t.Error("missing file counted as ready")
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := File(path)(ctx(t)); err != nil {
		t.Errorf("existing file: %v", err)
	}
}

func TestExec(t *testing.T) {
	r := reaper.New(nil)
	if err := Exec(r, spawn.Spec{Argv: []string{"true"}})(ctx(t)); err != nil {
		t.Errorf("true: %v", err)
	}
	if err := Exec(r, spawn.Spec{Argv: []string{"sh", "-c", "exit 3"}})(ctx(t)); err == nil || !strings.Contains(err.Error(), "status 3") {
		t.Errorf("exit 3: %v", err)
	}
	// A check that outlives its attempt is killed with its whole group, and reaped.
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := Exec(r, spawn.Spec{Argv: []string{"sh", "-c", "sleep 100 & wait"}})(short); err == nil {
		t.Error("a hanging check passed")
	}
}

func TestNotifier(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	n, err := Listen(path, os.Getuid(), os.Getgid())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v; want 0600", st.Mode(), err)
	}
	got := make(chan Message, 1)
	go n.Messages(func(m Message) { got <- m })

	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Sendto(fd, []byte("STATUS=warming up\nREADY=1\n"), 0, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m.Vars["READY"] != "1" || m.Vars["STATUS"] != "warming up" {
			t.Errorf("got %v", m.Vars)
		}
		// The sender is this test: the kernel says so, and /proc places it.
		if m.Pid != os.Getpid() || m.Pgid != unix.Getpgrp() || len(m.Ancestors) == 0 || m.Ancestors[0] != os.Getppid() {
			t.Errorf("sender %d, group %d, ancestors %v; want %d, %d, [%d ...]", m.Pid, m.Pgid, m.Ancestors, os.Getpid(), unix.Getpgrp(), os.Getppid())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no message")
	}
}
