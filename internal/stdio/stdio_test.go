package stdio

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

const childEnv = "UNO_STDIO_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

// child writes to its stderr, a pipe nobody reads, first through a Writer and then through
// os.Stderr, and says after each which signal arrived first: the SIGPIPE of the write, or a
// SIGWINCH it sends itself right after. The SIGPIPE, if raised, is delivered before the write
// returns and has the lower number, so it would come first.
func child() int {
	c := make(chan os.Signal, 8)
	signal.Notify(c, syscall.SIGPIPE, syscall.SIGWINCH)
	first := func() string {
		_ = syscall.Kill(os.Getpid(), syscall.SIGWINCH)
		select {
		case s := <-c:
			if s == syscall.SIGPIPE {
				<-c // the SIGWINCH
			}
			return s.String()
		case <-time.After(20 * time.Second):
			return "nothing"
		}
	}
	_, err := New(os.Stderr).Write([]byte("through stdio\n"))
	fmt.Printf("stdio: epipe=%v first=%s\n", errors.Is(err, syscall.EPIPE), first())
	_, err = os.Stderr.Write([]byte("through os.File\n"))
	fmt.Printf("os.File: epipe=%v first=%s\n", errors.Is(err, syscall.EPIPE), first())
	return 0
}

// TestWriteToClosedPipeRaisesNoSIGPIPE: a write to a pipe whose reader is gone fails with EPIPE
// and raises no SIGPIPE, where os.Stderr's raises one (the control that shows the test can see it).
func TestWriteToClosedPipeRaisesNoSIGPIPE(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = w
	out, err := cmd.Output()
	w.Close()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, want := range []string{"stdio: epipe=true first=window changed", "os.File: epipe=true first=broken pipe"} {
		if !strings.Contains(string(out), want+"\n") {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
}

func TestWriteWhole(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	big := []byte(strings.Repeat("x", 1<<20))
	done := make(chan error, 1)
	go func() {
		_, err := New(w).Write(big)
		w.Close()
		done <- err
	}()
	got := make([]byte, 0, len(big))
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if err := <-done; err != nil || len(got) != len(big) {
		t.Fatalf("wrote %d of %d bytes: %v", len(got), len(big), err)
	}
}
