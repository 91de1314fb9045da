package peers

// The init's and the program's output, on pipes or on a terminal.

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/testkit"
)

// outputs reads what the init and its program write: pipes, or the terminal.
type outputs struct {
	t              *testing.T
	mode           mode
	stdout, stderr testkit.Buffer
	done           []chan struct{}
	closeAfter     []*os.File
}

func startIO(t *testing.T, cmd *exec.Cmd, m mode) *outputs {
	o := &outputs{t: t, mode: m}
	if m.tty() {
		master, slave := testkit.OpenPTY(t)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, true, 0
		o.closeAfter = []*os.File{slave}
		o.copy(&o.stdout, master)
		return o
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = null
	if m.pid1() {
		cmd.SysProcAttr.Setsid = true
	} else {
		cmd.SysProcAttr.Setpgid = true
	}
	// Pipes of our own, not io.Writers, so that nothing waits for leftovers holding them.
	for _, buf := range []*testkit.Buffer{&o.stdout, &o.stderr} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		if buf == &o.stdout {
			cmd.Stdout = w
		} else {
			cmd.Stderr = w
		}
		o.closeAfter = append(o.closeAfter, w)
		o.copy(buf, r)
	}
	o.closeAfter = append(o.closeAfter, null)
	return o
}

// copy reads r into b until r fails (EOF on a pipe, EIO on a pty's master once no one holds
// the terminal).
func (o *outputs) copy(b *testkit.Buffer, r *os.File) {
	done := make(chan struct{})
	o.done = append(o.done, done)
	go func() {
		defer close(done)
		defer r.Close()
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			_, _ = b.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
}

// started drops the test's copies of the init's ends.
func (o *outputs) started() {
	for _, f := range o.closeAfter {
		f.Close()
	}
}

// collect waits for the outputs to end (everything that held them is gone by now) and records
// them: the program's lines (marked "P|") as they are, and whether the init said anything.
func (o *outputs) collect(ob obs, dir string) {
	timeout := time.After(deadline)
	for _, d := range o.done {
		select {
		case <-d:
		case <-timeout:
			ob["output"] = "still open"
			return
		}
	}
	streams := []struct {
		name string
		buf  *testkit.Buffer
	}{{"stdout", &o.stdout}, {"stderr", &o.stderr}}
	if o.mode.tty() {
		streams = streams[:1]
		streams[0].name = "terminal"
	}
	for _, s := range streams {
		var prog, init []string
		text := strings.ReplaceAll(s.buf.String(), "\r\n", "\n")
		for _, line := range strings.Split(text, "\n") {
			switch {
			case line == "":
			case strings.HasPrefix(line, "P|"):
				prog = append(prog, normPath(line, dir))
			default:
				init = append(init, line)
			}
		}
		if prog != nil {
			ob["program "+s.name] = strings.Join(prog, "\n")
		}
		if init != nil {
			ob["init "+s.name] = "says something"
		}
		ob["raw "+s.name] = text
	}
}
