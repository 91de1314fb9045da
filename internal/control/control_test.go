package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uno-init/uno/internal/ulog/ulogtest"
)

// patience bounds every wait in these tests. It is a correctness bound (something that should
// happen at once did not happen at all), far above what a loaded machine needs.
const patience = 5 * time.Second

// fakeBackend answers as its fields say and records what it was asked.
type fakeBackend struct {
	mu        sync.Mutex
	services  []ServiceStatus
	ready     bool
	readyWhy  string
	healthy   bool
	healthWhy string
	actMsg    string
	actErr    error
	tail      [][]byte
	logsErr   error
	follow    chan []byte // nil: Follow fails with followErr
	followErr error

	statusCalls [][]string
	acts        []Request
	actCtxErrs  []error
	logsCalls   []string // "name n"
	followCalls []string

	cancelOnce sync.Once
	cancelled  chan struct{} // closed by the first call of Follow's cancel
}

func newFake() *fakeBackend {
	return &fakeBackend{
		services: []ServiceStatus{
			{Name: "web", Type: "simple", State: "running", Ready: true, Essential: true, Pid: 42, Restarts: 1},
			{Name: "migrate", Type: "oneshot", State: "completed", LastExit: &Exit{Code: 0, Description: "exit 0"}},
		},
		ready:     true,
		healthy:   true,
		actMsg:    "done",
		cancelled: make(chan struct{}),
	}
}

func (f *fakeBackend) Status(names []string) ([]ServiceStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statusCalls = append(f.statusCalls, names)
	if len(names) == 0 {
		return slices.Clone(f.services), nil
	}
	var out []ServiceStatus
	for _, name := range names {
		i := slices.IndexFunc(f.services, func(s ServiceStatus) bool { return s.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("no service named %q", name)
		}
		out = append(out, f.services[i])
	}
	return out, nil
}

func (f *fakeBackend) Ready() (bool, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready, f.readyWhy
}

func (f *fakeBackend) Health() (bool, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.healthy, f.healthWhy
}

func (f *fakeBackend) Act(ctx context.Context, req Request) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acts = append(f.acts, req)
	f.actCtxErrs = append(f.actCtxErrs, ctx.Err())
	return f.actMsg, f.actErr
}

func (f *fakeBackend) Metrics() []byte { return []byte("# TYPE fake gauge\nfake 1\n") }

func (f *fakeBackend) Logs(name string, n int) ([][]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logsCalls = append(f.logsCalls, name+" "+strconv.Itoa(n))
	return f.tail, f.logsErr
}

func (f *fakeBackend) Follow(name string) (<-chan []byte, func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.followCalls = append(f.followCalls, name)
	if f.follow == nil {
		return nil, nil, f.followErr
	}
	return f.follow, func() { f.cancelOnce.Do(func() { close(f.cancelled) }) }, nil
}

func (f *fakeBackend) set(change func(f *fakeBackend)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeBackend) recorded() (status [][]string, acts []Request, ctxErrs []error, logs, follows []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.statusCalls), slices.Clone(f.acts), slices.Clone(f.actCtxErrs), slices.Clone(f.logsCalls), slices.Clone(f.followCalls)
}

var discard = ulogtest.FromSlog(slog.DiscardHandler)

// socketDir is a fresh directory for sockets: t.TempDir's paths, named after the test, can
// exceed the 108 bytes a unix socket path may have.
func socketDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ctl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func startServer(t *testing.T, b Backend) (*Server, Client) {
	t.Helper()
	path := filepath.Join(socketDir(t), "uno", SocketName)
	s, err := Listen(path, -1, b, discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, Client{Path: path, Timeout: patience}
}

// rawExchange writes payload on a fresh connection and returns the first reply line.
func rawExchange(t *testing.T, path string, payload []byte, closeWrite bool) Reply {
	t.Helper()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(patience))
	if _, err := conn.Write(payload); err != nil {
		t.Fatalf("writing %d bytes: %v", len(payload), err)
	}
	if closeWrite {
		_ = conn.(*net.UnixConn).CloseWrite()
	}
	var reply Reply
	if err := readMessage(bufio.NewReader(conn), &reply); err != nil {
		t.Fatalf("reading the reply: %v", err)
	}
	return reply
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v, still waiting for %s", patience, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReadLine(t *testing.T) {
	exact := append(bytes.Repeat([]byte("x"), MaxMessage-1), '\n')
	over := append(bytes.Repeat([]byte("x"), MaxMessage), '\n')
	for _, tc := range []struct {
		name    string
		in      io.Reader
		want    []string
		wantErr error
	}{
		{"one line", strings.NewReader("abc\n"), []string{"abc\n"}, io.EOF},
		{"two lines", strings.NewReader("a\nb\n"), []string{"a\n", "b\n"}, io.EOF},
		{"empty input", strings.NewReader(""), nil, io.EOF},
		{"cut short", strings.NewReader("a\nbc"), []string{"a\n"}, io.ErrUnexpectedEOF},
		{"line longer than the buffer", strings.NewReader(strings.Repeat("y", 100) + "\n"), []string{strings.Repeat("y", 100) + "\n"}, io.EOF},
		{"exactly MaxMessage with the newline", bytes.NewReader(exact), []string{string(exact)}, io.EOF},
		{"MaxMessage+1 with the newline", bytes.NewReader(over), nil, errTooLong},
		// The server's reader is limited to MaxMessage+1 bytes, so an endless line ends there.
		{"MaxMessage+1 without a newline", io.LimitReader(neverEnding('z'), MaxMessage+1), nil, errTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A small buffer makes lines span several ReadSlice calls.
			r := bufio.NewReaderSize(tc.in, 16)
			var got []string
			for {
				line, err := readLine(r)
				if err != nil {
					if !errors.Is(err, tc.wantErr) {
						t.Errorf("error %v, want %v", err, tc.wantErr)
					}
					break
				}
				got = append(got, string(line))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("lines %.40q, want %.40q", got, tc.want)
			}
		})
	}
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// The JSON names are the documented schema of `uno ctl status --json` and of the wire: a rename
// breaks scripts and other releases' clients.
func TestWireNames(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"request", Request{Version: 1, Command: CmdSignal, Names: []string{"a"}, Signal: "HUP", NoWait: true, Lines: 3, Follow: true},
			`{"v":1,"cmd":"signal","names":["a"],"signal":"HUP","no_wait":true,"lines":3,"follow":true}`},
		{"minimal request", Request{Version: 1, Command: CmdStatus}, `{"v":1,"cmd":"status"}`},
		{"minimal reply", Reply{Version: 1}, `{"v":1,"ok":false}`},
		{"reply", Reply{Version: 1, OK: true, Error: "e", Message: "m", Line: "l", Done: true},
			`{"v":1,"ok":true,"error":"e","message":"m","line":"l","done":true}`},
		{"service never run", ServiceStatus{Name: "a", Type: "simple", State: "waiting"},
			`{"name":"a","type":"simple","state":"waiting","ready":false,"essential":false,"restarts":0}`},
		{"service", ServiceStatus{Name: "a", Type: "simple", State: "running", Ready: true, Essential: true, Pid: 7, StartedAt: at,
			UptimeSeconds: 1.5, Restarts: 2, LastExit: &Exit{Code: 137, Description: "killed by SIGKILL", At: at}},
			`{"name":"a","type":"simple","state":"running","ready":true,"essential":true,"pid":7,"started_at":"2025-01-02T03:04:05Z",` +
				`"uptime_seconds":1.5,"restarts":2,"last_exit":{"code":137,"description":"killed by SIGKILL","at":"2025-01-02T03:04:05Z"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeMessage(&buf, tc.v); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tc.want+"\n" {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestListenModes(t *testing.T) {
	for _, tc := range []struct {
		name              string
		group             int
		sockMode, dirMode os.FileMode
		dirGroup          int
		existingDir       bool
	}{
		{"private, directory created", -1, 0o600, 0o700, 0, false},
		{"group, directory created", 65534, 0o660, 0o750, 65534, false},
		// A directory uno did not create (/tmp, say) is not uno's to change.
		{"private, directory existing", -1, 0o600, 0o777, 0, true},
		{"group, directory existing", 65534, 0o660, 0o777, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(socketDir(t), "run", "uno")
			if tc.existingDir {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(dir, 0o777); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, SocketName)
			s, err := Listen(path, tc.group, newFake(), discard)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Path != path {
				t.Errorf("Path %q, want %q", s.Path, path)
			}
			for _, f := range []struct {
				path  string
				mode  os.FileMode
				typ   os.FileMode
				group int
			}{{path, tc.sockMode, os.ModeSocket, max(tc.group, 0)}, {dir, tc.dirMode, os.ModeDir, tc.dirGroup}} {
				fi, err := os.Lstat(f.path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode() != f.typ|f.mode {
					t.Errorf("%s: mode %v, want %v", f.path, fi.Mode(), f.typ|f.mode)
				}
				if gid := fi.Sys().(*syscall.Stat_t).Gid; int(gid) != f.group {
					t.Errorf("%s: group %d, want %d", f.path, gid, f.group)
				}
			}
			c := Client{Path: path, Timeout: patience}
			if r, err := c.Do(Request{Command: CmdReady}); err != nil || !r.OK {
				t.Errorf("ready: %+v, %v", r, err)
			}
			s.Close()
			if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("after Close, the socket is still there: %v", err)
			}
		})
	}
}

func TestListenExisting(t *testing.T) {
	t.Run("stale socket is replaced", func(t *testing.T) {
		path := filepath.Join(socketDir(t), SocketName)
		// An uno that died leaves its socket behind with nobody listening.
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		ln.SetUnlinkOnClose(false)
		ln.Close()
		if _, err := os.Lstat(path); err != nil {
			t.Fatalf("the stale socket should be there: %v", err)
		}
		s, err := Listen(path, -1, newFake(), discard)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		c := Client{Path: path, Timeout: patience}
		if r, err := c.Do(Request{Command: CmdHealth}); err != nil || !r.OK {
			t.Errorf("health: %+v, %v", r, err)
		}
	})
	t.Run("live socket is not taken over", func(t *testing.T) {
		first, c := startServer(t, newFake())
		_, err := Listen(first.Path, -1, newFake(), discard)
		if want := "another uno is already listening on " + first.Path; !errors.Is(err, ErrInUse) || err.Error() != want {
			t.Fatalf("second Listen: %v, want ErrInUse as %q", err, want)
		}
		if r, err := c.Do(Request{Command: CmdStatus}); err != nil || !r.OK {
			t.Errorf("the first server should still answer: %+v, %v", r, err)
		}
	})
	t.Run("a file that is not a socket is left alone", func(t *testing.T) {
		path := filepath.Join(socketDir(t), SocketName)
		if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Listen(path, -1, newFake(), discard)
		if err == nil {
			s.Close()
			t.Fatal("Listen replaced a regular file")
		}
		if want := path + " exists and is not a socket"; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q, want it to contain %q", err, want)
		}
		if data, err := os.ReadFile(path); err != nil || string(data) != "precious" {
			t.Errorf("the file was changed: %q, %v", data, err)
		}
	})
}

func TestRoundTrips(t *testing.T) {
	f := newFake()
	_, c := startServer(t, f)
	for _, tc := range []struct {
		name      string
		req       Request
		setup     func(f *fakeBackend)
		want      Reply
		wantNames []string
	}{
		{name: "status of all", req: Request{Command: CmdStatus},
			want: Reply{OK: true, Services: newFake().services}},
		{name: "status by names", req: Request{Command: CmdStatus, Names: []string{"migrate", "web"}},
			want: Reply{OK: true, Services: []ServiceStatus{newFake().services[1], newFake().services[0]}}, wantNames: []string{"migrate", "web"}},
		{name: "status of an unknown service", req: Request{Command: CmdStatus, Names: []string{"web", "nope"}},
			want: Reply{Error: `no service named "nope"`}, wantNames: []string{"web", "nope"}},
		{name: "ready", req: Request{Command: CmdReady}, setup: func(f *fakeBackend) { f.ready, f.readyWhy = true, "" },
			want: Reply{OK: true}},
		{name: "not ready", req: Request{Command: CmdReady}, setup: func(f *fakeBackend) { f.ready, f.readyWhy = false, "web is starting" },
			want: Reply{Message: "web is starting"}},
		{name: "healthy", req: Request{Command: CmdHealth}, setup: func(f *fakeBackend) { f.healthy, f.healthWhy = true, "all well" },
			want: Reply{OK: true, Message: "all well"}},
		{name: "unhealthy", req: Request{Command: CmdHealth}, setup: func(f *fakeBackend) { f.healthy, f.healthWhy = false, "web is in backoff" },
			want: Reply{Message: "web is in backoff"}},
		{name: "unknown command", req: Request{Command: "frobnicate"}, want: Reply{Error: `unknown command "frobnicate"`}},
		{name: "empty command", req: Request{}, want: Reply{Error: `unknown command ""`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.set(func(f *fakeBackend) { f.statusCalls = nil })
			if tc.setup != nil {
				f.set(tc.setup)
			}
			got, err := c.Do(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Version = Version
			if !equalJSON(got, tc.want) {
				t.Errorf("reply %s, want %s", mustJSON(got), mustJSON(tc.want))
			}
			if status, _, _, _, _ := f.recorded(); tc.req.Command == CmdStatus {
				if len(status) != 1 || !slices.Equal(status[0], tc.wantNames) {
					t.Errorf("Status called with %q, want once with %q", status, tc.wantNames)
				}
			}
		})
	}
}

func TestActions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		req    Request
		actErr error
		want   Reply
	}{
		{"start", Request{Command: CmdStart, Names: []string{"web", "worker"}}, nil, Reply{OK: true, Message: "done"}},
		{"stop without waiting", Request{Command: CmdStop, Names: []string{"web"}, NoWait: true}, nil, Reply{OK: true, Message: "done"}},
		{"restart", Request{Command: CmdRestart, Names: []string{"worker"}}, nil, Reply{OK: true, Message: "done"}},
		{"signal", Request{Command: CmdSignal, Names: []string{"web"}, Signal: "SIGUSR1"}, nil, Reply{OK: true, Message: "done"}},
		{"reload", Request{Command: CmdReload}, nil, Reply{OK: true, Message: "done"}},
		{"failed action", Request{Command: CmdStop, Names: []string{"ghost"}}, errors.New(`no service named "ghost"`),
			Reply{Error: `no service named "ghost"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.actErr = tc.actErr
			_, c := startServer(t, f)
			got, err := c.Do(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Version = Version
			if !equalJSON(got, tc.want) {
				t.Errorf("reply %s, want %s", mustJSON(got), mustJSON(tc.want))
			}
			_, acts, ctxErrs, _, _ := f.recorded()
			wantReq := tc.req
			wantReq.Version = Version
			if len(acts) != 1 || !equalJSON(acts[0], wantReq) {
				t.Fatalf("Act called with %s, want once with %s", mustJSON(acts), mustJSON(wantReq))
			}
			if ctxErrs[0] != nil {
				t.Errorf("Act's context was already done: %v", ctxErrs[0])
			}
		})
	}
}

func TestVersionMismatch(t *testing.T) {
	t.Run("client of another version", func(t *testing.T) {
		for _, v := range []int{0, 2} {
			s, _ := startServer(t, newFake())
			r := rawExchange(t, s.Path, fmt.Appendf(nil, `{"v":%d,"cmd":"status"}`+"\n", v), false)
			want := fmt.Sprintf("protocol version mismatch: the client speaks version %d, this uno speaks %d", v, Version)
			if r.OK || !strings.HasPrefix(r.Error, want) || r.Version != Version {
				t.Errorf("v%d: reply %+v, want an error starting %q", v, r, want)
			}
		}
	})
	t.Run("server of another version", func(t *testing.T) {
		path := filepath.Join(socketDir(t), "old.sock")
		ln := fakeServer(t, path, func(req []byte) string { return `{"v":2,"ok":true,"message":"hi"}` + "\n" })
		defer ln.Close()
		_, err := (&Client{Path: path, Timeout: patience}).Do(Request{Command: CmdStatus})
		if !errors.Is(err, ErrVersion) {
			t.Fatalf("error %v, want one wrapping ErrVersion", err)
		}
		if want := fmt.Sprintf("uno at %s speaks version 2, this uno speaks %d", path, Version); !strings.Contains(err.Error(), want) {
			t.Errorf("error %q, want it to contain %q", err, want)
		}
	})
}

// fakeServer answers each connection's first line with answer(line), then closes it.
func fakeServer(t *testing.T, path string, answer func(req []byte) string) net.Listener {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(patience))
				line, err := bufio.NewReader(conn).ReadBytes('\n')
				if err != nil {
					return
				}
				_, _ = io.WriteString(conn, answer(line))
			}()
		}
	}()
	return ln
}

func TestClientBadReplies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string
		want   string
	}{
		{"malformed", "not json\n", "reading from PATH: malformed message"},
		{"no reply", "", "reading from PATH: EOF"},
		{"cut short", `{"v":1,"ok":tr`, "reading from PATH: unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(socketDir(t), "odd.sock")
			var got []byte
			var mu sync.Mutex
			ln := fakeServer(t, path, func(req []byte) string {
				mu.Lock()
				got = slices.Clone(req)
				mu.Unlock()
				return tc.answer
			})
			defer ln.Close()
			_, err := (&Client{Path: path, Timeout: patience}).Do(Request{Command: CmdReady})
			if want := strings.ReplaceAll(tc.want, "PATH", path); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %v, want one starting %q", err, want)
			}
			mu.Lock()
			defer mu.Unlock()
			if string(got) != `{"v":1,"cmd":"ready"}`+"\n" {
				t.Errorf("the client sent %q", got)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	f := newFake()
	s, _ := startServer(t, f)
	for _, tc := range []struct {
		name       string
		payload    []byte
		closeWrite bool
		want       string
	}{
		{"malformed JSON", []byte("{nope\n"), false, "bad request: malformed message: "},
		{"empty line", []byte("\n"), false, "bad request: malformed message: unexpected end of JSON input"},
		{"not an object", []byte("[1,2]\n"), false, "bad request: malformed message: "},
		{"cut short", []byte(`{"v":1,"cmd":"status"}`), true, "bad request: unexpected EOF"},
		{"nothing at all", nil, true, "bad request: EOF"},
		{"MaxMessage+1 bytes without a newline", bytes.Repeat([]byte("x"), MaxMessage+1), false, "bad request: message longer than 1048576 bytes"},
		// The server stops reading at MaxMessage+1 and must still let the rest through, or the
		// client's write and the reply deadlock.
		{"3 MiB without a newline", bytes.Repeat([]byte("x"), 3*MaxMessage), false, "bad request: message longer than 1048576 bytes"},
		{"MaxMessage+1 bytes with a newline", append(bytes.Repeat([]byte(" "), MaxMessage), '\n'), false, "bad request: message longer than 1048576 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := rawExchange(t, s.Path, tc.payload, tc.closeWrite)
			if elapsed := time.Since(start); elapsed > patience {
				t.Errorf("answered after %v", elapsed)
			}
			if r.OK || !strings.HasPrefix(r.Error, tc.want) || r.Version != Version {
				t.Errorf("reply %+v, want an error starting %q", r, tc.want)
			}
		})
	}
	t.Run("exactly MaxMessage bytes is a request", func(t *testing.T) {
		req := []byte(`{"v":1,"cmd":"ready"}`)
		payload := append(append(req, bytes.Repeat([]byte(" "), MaxMessage-len(req)-1)...), '\n')
		if r := rawExchange(t, s.Path, payload, false); !r.OK || r.Error != "" {
			t.Errorf("reply %+v", r)
		}
	})
	if status, acts, _, _, _ := f.recorded(); len(status)+len(acts) != 0 {
		t.Errorf("bad requests reached the backend: %q %v", status, acts)
	}
}

func TestSilentClientDoesNotBlockOthers(t *testing.T) {
	s, c := startServer(t, newFake())
	silent, err := net.Dial("unix", s.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	if r, err := c.Do(Request{Command: CmdStatus}); err != nil || !r.OK {
		t.Errorf("status beside a silent client: %+v, %v", r, err)
	}
}

func TestConcurrentClients(t *testing.T) {
	_, c := startServer(t, newFake())
	const n = 200
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := Request{Command: CmdStatus}
			if i%2 == 1 {
				req.Names = []string{"web"}
			}
			r, err := c.Do(req)
			switch {
			case err != nil:
				errs <- err
			case !r.OK || len(r.Services) == 0 || r.Services[0].Name != "web":
				errs <- fmt.Errorf("client %d: reply %+v", i, r)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// collect runs c.Stream in the background and hands over each reply as it comes.
func collect(c Client, req Request) (<-chan Reply, <-chan error) {
	replies := make(chan Reply, 100)
	done := make(chan error, 1)
	go func() {
		done <- c.Stream(req, func(r Reply) error { replies <- r; return nil })
		close(replies)
	}()
	return replies, done
}

func next(t *testing.T, replies <-chan Reply) Reply {
	t.Helper()
	select {
	case r, ok := <-replies:
		if !ok {
			t.Fatal("the stream ended early")
		}
		return r
	case <-time.After(patience):
		t.Fatalf("no reply after %v", patience)
	}
	panic("unreachable")
}

func TestLogs(t *testing.T) {
	t.Run("tail", func(t *testing.T) {
		f := newFake()
		f.tail = [][]byte{[]byte("one"), []byte("two")}
		_, c := startServer(t, f)
		var got []Reply
		err := c.Stream(Request{Command: CmdLogs, Names: []string{"web"}, Lines: 2}, func(r Reply) error { got = append(got, r); return nil })
		if err != nil {
			t.Fatal(err)
		}
		want := []Reply{{Version: 1, OK: true, Line: "one"}, {Version: 1, OK: true, Line: "two"}, {Version: 1, OK: true, Done: true}}
		if !equalJSON(got, want) {
			t.Errorf("replies %s, want %s", mustJSON(got), mustJSON(want))
		}
		if _, _, _, logs, follows := f.recorded(); !slices.Equal(logs, []string{"web 2"}) || len(follows) != 0 {
			t.Errorf("Logs calls %q, Follow calls %q", logs, follows)
		}
		// Do keeps the last reply of a stream.
		if r, err := c.Do(Request{Command: CmdLogs, Names: []string{"web"}}); err != nil || !r.Done {
			t.Errorf("Do: %+v, %v", r, err)
		}
	})
	t.Run("follow", func(t *testing.T) {
		f := newFake()
		f.tail = [][]byte{[]byte("old")}
		f.follow = make(chan []byte)
		_, c := startServer(t, f)
		replies, done := collect(c, Request{Command: CmdLogs, Names: []string{"web"}, Lines: 10, Follow: true})
		if r := next(t, replies); r.Line != "old" || !r.OK {
			t.Fatalf("first reply %+v, want the tail", r)
		}
		for _, l := range []string{"new 1", "new 2"} {
			select {
			case f.follow <- []byte(l):
			case <-time.After(patience):
				t.Fatal("the server does not take followed lines")
			}
			if r := next(t, replies); r.Line != l || r.Done {
				t.Fatalf("reply %+v, want line %q", r, l)
			}
		}
		close(f.follow)
		if r := next(t, replies); !r.Done || !r.OK || r.Line != "" {
			t.Errorf("reply %+v, want Done", r)
		}
		if err := <-done; err != nil {
			t.Errorf("Stream: %v", err)
		}
		select {
		case <-f.cancelled:
		case <-time.After(patience):
			t.Error("the subscription was not cancelled at the end of the stream")
		}
		if _, _, _, logs, follows := f.recorded(); !slices.Equal(logs, []string{"web 10"}) || !slices.Equal(follows, []string{"web"}) {
			t.Errorf("Logs calls %q, Follow calls %q", logs, follows)
		}
	})
	t.Run("follower goes away", func(t *testing.T) {
		f := newFake()
		f.tail = [][]byte{[]byte("old")}
		f.follow = make(chan []byte)
		s, _ := startServer(t, f)
		conn, err := net.Dial("unix", s.Path)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(patience))
		if err := writeMessage(conn, Request{Version: Version, Command: CmdLogs, Names: []string{"web"}, Follow: true}); err != nil {
			t.Fatal(err)
		}
		var r Reply
		if err := readMessage(bufio.NewReader(conn), &r); err != nil || r.Line != "old" {
			t.Fatalf("first reply %+v, %v", r, err)
		}
		conn.Close()
		select {
		case <-f.cancelled:
		case <-time.After(patience):
			t.Fatal("the server did not cancel the subscription of a follower that went away")
		}
	})
	t.Run("server closes", func(t *testing.T) {
		f := newFake()
		f.follow = make(chan []byte)
		s, c := startServer(t, f)
		replies, done := collect(c, Request{Command: CmdLogs, Names: []string{"web"}, Follow: true})
		// Once Follow was called the stream is under way; closing must end it with Done.
		waitFor(t, "Follow to be called", func() bool { _, _, _, _, follows := f.recorded(); return len(follows) == 1 })
		s.Close()
		if r := next(t, replies); !r.Done {
			t.Errorf("reply %+v, want Done", r)
		}
		if err := <-done; err != nil {
			t.Errorf("Stream: %v", err)
		}
	})
	for _, tc := range []struct {
		name  string
		req   Request
		setup func(f *fakeBackend)
		want  string
	}{
		{"no name", Request{Command: CmdLogs}, nil, "logs takes exactly one service name"},
		{"two names", Request{Command: CmdLogs, Names: []string{"a", "b"}}, nil, "logs takes exactly one service name"},
		{"unknown service", Request{Command: CmdLogs, Names: []string{"nope"}}, func(f *fakeBackend) { f.logsErr = errors.New(`no service named "nope"`) },
			`no service named "nope"`},
		{"cannot follow", Request{Command: CmdLogs, Names: []string{"main"}, Follow: true}, func(f *fakeBackend) { f.followErr = errors.New("no logs in single-program mode") },
			"no logs in single-program mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			if tc.setup != nil {
				tc.setup(f)
			}
			_, c := startServer(t, f)
			var got []Reply
			if err := c.Stream(tc.req, func(r Reply) error { got = append(got, r); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Error != tc.want || got[0].OK {
				t.Errorf("replies %s, want one error %q", mustJSON(got), tc.want)
			}
		})
	}
}

func TestStreamCallbackError(t *testing.T) {
	f := newFake()
	f.tail = [][]byte{[]byte("a"), []byte("b")}
	_, c := startServer(t, f)
	stop := errors.New("enough")
	calls := 0
	err := c.Stream(Request{Command: CmdLogs, Names: []string{"web"}}, func(Reply) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Stream: %v after %d calls, want the callback's error after 1", err, calls)
	}
}

func TestDialErrors(t *testing.T) {
	dir := socketDir(t)
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	for _, path := range []string{filepath.Join(dir, "missing.sock"), filepath.Join(dir, "no", "dir.sock"), stale} {
		_, err := (&Client{Path: path, Timeout: patience}).Do(Request{Command: CmdStatus})
		want := "no uno is listening on " + path + " (is uno running, with its control socket on? --socket or UNO_SOCKET choose another)"
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
}

// Peer credentials can only be tested from another process: the test binary runs itself as
// another user, which needs root.

const helperEnv = "UNO_CONTROL_TEST_HELPER"

// TestPeerHelper is the other process: it sends one request and prints the outcome.
func TestPeerHelper(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("run by TestPeerCredentials")
	}
	var req Request
	_ = json.Unmarshal([]byte(os.Getenv(helperEnv)), &req)
	r, err := (&Client{Path: os.Getenv(helperEnv + "_SOCKET"), Timeout: patience}).Do(req)
	out := map[string]any{"reply": r, "err": ""}
	if err != nil {
		out["err"] = err.Error()
	}
	fmt.Printf("HELPER %s\n", mustJSON(out))
	os.Exit(0)
}

type peer struct {
	uid, gid uint32
	groups   []uint32
}

func TestPeerCredentials(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("running a client as another user needs root")
	}
	// The copy is reachable by the other users, unlike the go tool's private build directory.
	top := socketDir(t)
	if err := os.Chmod(top, 0o755); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	helper := filepath.Join(top, "helper")
	if err := os.WriteFile(helper, data, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, p peer, path string, req Request) (Reply, string) {
		t.Helper()
		cmd := exec.Command(helper, "-test.run=^TestPeerHelper$")
		cmd.Env = append(os.Environ(), helperEnv+"="+mustJSON(req), helperEnv+"_SOCKET="+path)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: p.uid, Gid: p.gid, Groups: p.groups}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) {
				t.Skipf("cannot run as uid %d: %v", p.uid, err)
			}
			t.Fatalf("helper: %v\n%s", err, out)
		}
		_, line, ok := strings.Cut(string(out), "HELPER ")
		if !ok {
			t.Fatalf("helper said:\n%s", out)
		}
		var res struct {
			Reply Reply
			Err   string
		}
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			t.Fatalf("helper said %q: %v", line, err)
		}
		return res.Reply, res.Err
	}

	const group = 65534
	member := peer{uid: 65534, gid: group}
	supplementary := peer{uid: 65533, gid: 65533, groups: []uint32{group}}
	stranger := peer{uid: 65533, gid: 65533}

	t.Run("group members may read", func(t *testing.T) {
		f := newFake()
		s, err := Listen(filepath.Join(top, "grp", SocketName), group, f, discard)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		for _, tc := range []struct {
			name    string
			p       peer
			req     Request
			want    Reply
			wantErr string
		}{
			{"member status", member, Request{Command: CmdStatus, Names: []string{"web"}}, Reply{OK: true, Services: f.services[:1]}, ""},
			{"member ready", member, Request{Command: CmdReady}, Reply{OK: true}, ""},
			{"member health", member, Request{Command: CmdHealth}, Reply{OK: true}, ""},
			{"member stop", member, Request{Command: CmdStop, Names: []string{"web"}}, Reply{Error: "permission denied: uid 65534 may only ask for status, ready and health"}, ""},
			{"member logs", member, Request{Command: CmdLogs, Names: []string{"web"}}, Reply{Error: "permission denied: uid 65534 may only ask for status, ready and health"}, ""},
			{"supplementary member status", supplementary, Request{Command: CmdStatus}, Reply{OK: true, Services: f.services}, ""},
			{"supplementary member reload", supplementary, Request{Command: CmdReload}, Reply{Error: "permission denied: uid 65533 may only ask for status, ready and health"}, ""},
			{"stranger", stranger, Request{Command: CmdStatus}, Reply{},
				"permission denied on " + s.Path + ": uno's control socket is for root and uno's own user (--socket-group grants a group read-only access)"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel() // each helper is a process start, slow under the race detector
				got, err := run(t, tc.p, s.Path, tc.req)
				if err != tc.wantErr {
					t.Fatalf("error %q, want %q", err, tc.wantErr)
				}
				if tc.wantErr == "" {
					tc.want.Version = Version
				}
				if !equalJSON(got, tc.want) {
					t.Errorf("reply %s, want %s", mustJSON(got), mustJSON(tc.want))
				}
			})
		}
		t.Cleanup(func() {
			if _, acts, _, logs, _ := f.recorded(); len(acts)+len(logs) != 0 {
				t.Errorf("refused requests reached the backend: %v %q", acts, logs)
			}
		})
	})
	t.Run("others are refused even when the file modes let them in", func(t *testing.T) {
		s, err := Listen(filepath.Join(top, "open", SocketName), -1, newFake(), discard)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for _, p := range []string{filepath.Dir(s.Path), s.Path} {
			if err := os.Chmod(p, 0o777); err != nil {
				t.Fatal(err)
			}
		}
		got, errText := run(t, member, s.Path, Request{Command: CmdStatus})
		want := Reply{Version: Version, Error: "permission denied: uid 65534 may not use uno's control socket (root and uid 0 may)"}
		if errText != "" || !equalJSON(got, want) {
			t.Errorf("reply %s, %q; want %s", mustJSON(got), errText, mustJSON(want))
		}
	})
	t.Run("socket with mode 0000", func(t *testing.T) {
		s, err := Listen(filepath.Join(top, "shut", SocketName), -1, newFake(), discard)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := os.Chmod(filepath.Dir(s.Path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(s.Path, 0); err != nil {
			t.Fatal(err)
		}
		_, errText := run(t, member, s.Path, Request{Command: CmdStatus})
		if want := "permission denied on " + s.Path + ": "; !strings.HasPrefix(errText, want) {
			t.Errorf("error %q, want one starting %q", errText, want)
		}
	})
}

func TestCheckHTTPAddr(t *testing.T) {
	const notLoopback = "is not a loopback address; add --http-public to serve probes to the network"
	for _, tc := range []struct {
		addr      string
		public    bool
		wantError string // "" for none
	}{
		{"127.0.0.1:9000", false, ""},
		{"127.0.0.2:9000", false, ""},
		{"[::1]:9000", false, ""},
		{"localhost:9000", false, ""},
		{"127.0.0.1:0", false, ""},
		{"0.0.0.0:9000", false, `"0.0.0.0:9000" ` + notLoopback},
		{"0.0.0.0:9000", true, ""},
		{":9000", false, `":9000" ` + notLoopback},
		{":9000", true, ""},
		{"[::]:9000", false, `"[::]:9000" ` + notLoopback},
		{"10.0.0.1:80", false, `"10.0.0.1:80" ` + notLoopback},
		{"10.0.0.1:80", true, ""},
		{"example.com:80", false, `"example.com:80" ` + notLoopback},
		{"127.0.0.1:65536", false, `bad port in "127.0.0.1:65536"`},
		{"127.0.0.1:http", false, `bad port in "127.0.0.1:http"`},
		{"127.0.0.1:-1", true, `bad port in "127.0.0.1:-1"`},
		{"127.0.0.1:", false, `bad port in "127.0.0.1:"`},
		{"127.0.0.1", false, `want HOST:PORT such as 127.0.0.1:9000, got "127.0.0.1"`},
		{"9000", true, `want HOST:PORT such as 127.0.0.1:9000, got "9000"`},
		{"::1:9000", false, `want HOST:PORT such as 127.0.0.1:9000, got "::1:9000"`},
	} {
		t.Run(fmt.Sprintf("%s public=%v", tc.addr, tc.public), func(t *testing.T) {
			err := CheckHTTPAddr(tc.addr, tc.public)
			switch {
			case tc.wantError == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.wantError != "" && (err == nil || err.Error() != tc.wantError):
				t.Errorf("error %v, want %q", err, tc.wantError)
			}
		})
	}
}

type httpAnswer struct {
	status  int
	headers map[string]string
	body    string
}

// parseHTTP splits a whole response, read to the end, so that a body where none belongs shows.
func parseHTTP(t *testing.T, raw []byte) httpAnswer {
	t.Helper()
	head, body, ok := strings.Cut(string(raw), "\r\n\r\n")
	if !ok {
		t.Fatalf("no end of headers in %q", raw)
	}
	lines := strings.Split(head, "\r\n")
	var a httpAnswer
	var reason string
	if _, err := fmt.Sscanf(lines[0], "HTTP/1.1 %d %s", &a.status, &reason); err != nil {
		t.Fatalf("status line %q: %v", lines[0], err)
	}
	a.headers = map[string]string{}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			t.Fatalf("header line %q", l)
		}
		a.headers[k] = v
	}
	a.body = body
	return a
}

func httpExchange(t *testing.T, conn net.Conn, request string) httpAnswer {
	t.Helper()
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(patience))
	if request != "" {
		if _, err := io.WriteString(conn, request); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("reading the response: %v (got %q)", err, raw)
	}
	return parseHTTP(t, raw)
}

func httpGet(t *testing.T, addr, request string) httpAnswer {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return httpExchange(t, conn, request)
}

func startHTTP(t *testing.T, b Backend) *HTTPServer {
	t.Helper()
	h, err := ListenHTTP("127.0.0.1:0", b, discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func TestHTTP(t *testing.T) {
	f := newFake()
	h := startHTTP(t, f)
	statusBody := mustJSON(map[string]any{"version": Version, "services": f.services}) + "\n"
	bigHeader := "X-Big: " + strings.Repeat("b", 9000) + "\r\n"
	manyHeaders := strings.Repeat("X-Many: "+strings.Repeat("m", 100)+"\r\n", 100)
	for _, tc := range []struct {
		name       string
		setup      func(f *fakeBackend)
		request    string
		closeWrite bool // the client says it has no more to send
		status     int
		wantBody   string // what GET sends; with head, the length of it and no body
		head       bool
	}{
		{name: "ready", setup: func(f *fakeBackend) { f.ready, f.readyWhy = true, "" },
			request: "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", status: 200, wantBody: `{"ok":true,"reason":""}` + "\n"},
		{name: "not ready", setup: func(f *fakeBackend) { f.ready, f.readyWhy = false, "web is starting" },
			request: "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", status: 503, wantBody: `{"ok":false,"reason":"web is starting"}` + "\n"},
		{name: "healthy", setup: func(f *fakeBackend) { f.healthy, f.healthWhy = true, "" },
			request: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", status: 200, wantBody: `{"ok":true,"reason":""}` + "\n"},
		{name: "unhealthy", setup: func(f *fakeBackend) { f.healthy, f.healthWhy = false, "web failed" },
			request: "GET /healthz HTTP/1.0\r\n\r\n", status: 503, wantBody: `{"ok":false,"reason":"web failed"}` + "\n"},
		{name: "query string ignored", setup: func(f *fakeBackend) { f.ready = true },
			request: "GET /readyz?verbose=1 HTTP/1.1\r\n\r\n", status: 200, wantBody: `{"ok":true,"reason":""}` + "\n"},
		{name: "bare line feeds", setup: func(f *fakeBackend) { f.ready = true },
			request: "GET /readyz HTTP/1.1\nHost: x\n\n", status: 200, wantBody: `{"ok":true,"reason":""}` + "\n"},
		{name: "status", request: "GET /status HTTP/1.1\r\nHost: x\r\n\r\n", status: 200, wantBody: statusBody},
		{name: "not found", request: "GET / HTTP/1.1\r\n\r\n", status: 404, wantBody: `{"error":"not found: try /readyz, /healthz, /status or /metrics"}` + "\n"},
		{name: "POST", request: "POST /readyz HTTP/1.1\r\nContent-Length: 0\r\n\r\n", status: 405, wantBody: `{"error":"only GET"}` + "\n"},
		{name: "garbage", request: "hello there\r\n\r\n", status: 400, wantBody: `{"error":"bad request"}` + "\n"},
		{name: "binary garbage", request: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", closeWrite: true, status: 400, wantBody: `{"error":"bad request"}` + "\n"},
		{name: "POST with a body", request: "POST /readyz HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + strings.Repeat("p", 5000), status: 405, wantBody: `{"error":"only GET"}` + "\n"},
		{name: "not HTTP/1", request: "GET /readyz HTTP/2.0\r\n\r\n", status: 400, wantBody: `{"error":"bad request"}` + "\n"},
		{name: "no blank line", request: "GET /readyz HTTP/1.1\r\nHost: x\r\n", closeWrite: true, status: 400, wantBody: `{"error":"bad request"}` + "\n"},
		{name: "one header over 8 KiB", request: "GET /readyz HTTP/1.1\r\n" + bigHeader + "\r\n", status: 400, wantBody: `{"error":"bad request"}` + "\n"},
		{name: "headers over 8 KiB in all", request: "GET /readyz HTTP/1.1\r\n" + manyHeaders + "\r\n", status: 400, wantBody: `{"error":"bad request"}` + "\n"},
		{name: "request line over 8 KiB", request: "GET /" + strings.Repeat("p", 9000) + " HTTP/1.1\r\n\r\n", status: 400, wantBody: `{"error":"bad request"}` + "\n"},
		{name: "headers just under 8 KiB", setup: func(f *fakeBackend) { f.ready = true },
			request: "GET /readyz HTTP/1.1\r\n" + strings.Repeat("X-Many: "+strings.Repeat("m", 100)+"\r\n", 70) + "\r\n", status: 200, wantBody: `{"ok":true,"reason":""}` + "\n"},
		{name: "HEAD ready", setup: func(f *fakeBackend) { f.ready, f.readyWhy = true, "" },
			request: "HEAD /readyz HTTP/1.1\r\n\r\n", status: 200, wantBody: `{"ok":true,"reason":""}` + "\n", head: true},
		{name: "HEAD not ready", setup: func(f *fakeBackend) { f.ready, f.readyWhy = false, "web is starting" },
			request: "HEAD /readyz HTTP/1.1\r\n\r\n", status: 503, wantBody: `{"ok":false,"reason":"web is starting"}` + "\n", head: true},
		{name: "HEAD status", request: "HEAD /status HTTP/1.1\r\n\r\n", status: 200, wantBody: statusBody, head: true},
		{name: "HEAD not found", request: "HEAD /nope HTTP/1.1\r\n\r\n", status: 404, wantBody: `{"error":"not found: try /readyz, /healthz, /status or /metrics"}` + "\n", head: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.set(func(g *fakeBackend) {
				g.services, g.ready, g.readyWhy, g.healthy, g.healthWhy = newFake().services, true, "", true, ""
			})
			if tc.setup != nil {
				f.set(tc.setup)
			}
			conn, err := net.Dial("tcp", h.Addr)
			if err != nil {
				t.Fatal(err)
			}
			if tc.closeWrite {
				// Written here so that the half close follows it; httpExchange then writes nothing.
				_ = conn.SetDeadline(time.Now().Add(patience))
				if _, err := io.WriteString(conn, tc.request); err != nil {
					t.Fatal(err)
				}
				_ = conn.(*net.TCPConn).CloseWrite()
				tc.request = ""
			}
			a := httpExchange(t, conn, tc.request)
			if a.status != tc.status {
				t.Errorf("status %d, want %d", a.status, tc.status)
			}
			wantBody := tc.wantBody
			if tc.head {
				wantBody = ""
			}
			if a.body != wantBody {
				t.Errorf("body %q, want %q", a.body, wantBody)
			}
			want := map[string]string{
				"Content-Type":   "application/json",
				"Content-Length": strconv.Itoa(len(tc.wantBody)),
				"Cache-Control":  "no-store",
				"Connection":     "close",
			}
			for k, v := range want {
				if a.headers[k] != v {
					t.Errorf("header %s: %q, want %q", k, a.headers[k], v)
				}
			}
		})
	}
}

func TestHTTPStatusError(t *testing.T) {
	h := startHTTP(t, statusFails{newFake()})
	a := httpGet(t, h.Addr, "GET /status HTTP/1.1\r\n\r\n")
	if want := `{"error":"the supervisor is gone"}` + "\n"; a.status != 500 || a.body != want {
		t.Errorf("%d %q, want 500 %q", a.status, a.body, want)
	}
}

type statusFails struct{ *fakeBackend }

func (statusFails) Status([]string) ([]ServiceStatus, error) {
	return nil, errors.New("the supervisor is gone")
}

// A request that arrives in pieces must be read as a whole: the request line must survive the
// reads of the headers that follow it. net.Pipe hands over one write per read, which makes the
// pieces land in separate reads every time.
func TestHTTPRequestInPieces(t *testing.T) {
	f := newFake()
	f.ready, f.readyWhy = false, "web is starting"
	s := &HTTPServer{backend: f, log: discard}
	client, server := net.Pipe()
	go s.handle(server)
	pieces := []string{"GET /readyz HTTP/1.1\r\n", "Host: localhost:9000\r\n", "User-Agent: kube-probe/1.33\r\n", "\r\n"}
	_ = client.SetDeadline(time.Now().Add(patience))
	go func() {
		for _, p := range pieces {
			if _, err := io.WriteString(client, p); err != nil {
				return
			}
		}
	}()
	raw, err := io.ReadAll(client)
	if err != nil {
		t.Fatalf("reading: %v (got %q)", err, raw)
	}
	a := parseHTTP(t, raw)
	if want := `{"ok":false,"reason":"web is starting"}` + "\n"; a.status != 503 || a.body != want {
		t.Errorf("%d %q, want 503 %q", a.status, a.body, want)
	}
}

func TestHTTPSilentClientDoesNotBlockOthers(t *testing.T) {
	h := startHTTP(t, newFake())
	silent, err := net.Dial("tcp", h.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	if a := httpGet(t, h.Addr, "GET /healthz HTTP/1.1\r\n\r\n"); a.status != 200 {
		t.Errorf("status %d beside a silent client", a.status)
	}
}

func TestHTTPClose(t *testing.T) {
	h, err := ListenHTTP("127.0.0.1:0", newFake(), discard)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	if conn, err := net.DialTimeout("tcp", h.Addr, patience); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Close", h.Addr)
	}
}

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}

// equalJSON compares as the wire does: what a peer would decode is what counts.
func equalJSON(a, b any) bool { return mustJSON(a) == mustJSON(b) }
