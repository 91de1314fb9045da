package control

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uno-init/uno/internal/jsonwire"
	"github.com/uno-init/uno/internal/ulog"
)

// The HTTP endpoint is for Kubernetes httpGet probes: GET /readyz, /healthz and /status. It is
// written by hand on net, like the readiness checks: net/http would bring crypto/tls and double
// uno's size, for three fixed answers.

// CheckHTTPAddr refuses an address other than loopback unless public is set: a probe endpoint
// reachable from the network tells anyone what runs in the container.
func CheckHTTPAddr(addr string, public bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want HOST:PORT such as 127.0.0.1:9000, got %q", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("bad port in %q", addr)
	}
	if public {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address; add --http-public to serve probes to the network", addr)
	}
	return nil
}

// HTTPServer serves the probe endpoint.
type HTTPServer struct {
	Addr    string
	ln      net.Listener
	backend Backend
	log     *ulog.Logger
	wg      sync.WaitGroup
	// slots bounds the connections served at once: each holds a descriptor for up to its
	// deadline, and clients that connect and say nothing must not use up uno's descriptors
	// (which its services' pipes need).
	slots chan struct{}
}

// maxHTTPConns is how many probe connections are served at once; one more is answered 503 at
// once and closed. A kubelet or an engine probes one at a time.
const maxHTTPConns = 32

// ListenHTTP starts serving on addr (checked with CheckHTTPAddr by the caller).
func ListenHTTP(addr string, b Backend, log *ulog.Logger) (*HTTPServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &HTTPServer{Addr: ln.Addr().String(), ln: ln, backend: b, log: log, slots: make(chan struct{}, maxHTTPConns)}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Close stops the endpoint.
func (s *HTTPServer) Close() {
	s.ln.Close()
	s.wg.Wait()
}

func (s *HTTPServer) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("probe endpoint: accept failed", "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		select {
		case s.slots <- struct{}{}:
			go func() {
				defer func() { <-s.slots }()
				s.handle(conn)
			}()
		default:
			_ = conn.SetDeadline(time.Now().Add(100 * time.Millisecond))
			respond(quiet(conn), 503, map[string]any{"error": "too many connections"}, false)
			conn.Close()
		}
	}
}

// maxHeader bounds what a client may send before its request is refused.
const maxHeader = 8 << 10

func (s *HTTPServer) handle(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	headOnly := false
	answer := func(status int, body any) {
		respond(quiet(conn), status, body, headOnly)
		linger(conn)
	}
	r := bufio.NewReaderSize(conn, maxHeader)
	requestLine, err := r.ReadSlice('\n')
	if err != nil {
		answer(400, map[string]any{"error": "bad request"})
		return
	}
	// Split now: ReadSlice's bytes are overwritten by the reads of the headers when the request
	// arrives in more than one piece.
	fields := strings.Fields(string(requestLine))
	// Headers are read and ignored, up to the blank line, so that the client sees its whole
	// request consumed before the answer.
	for read := len(requestLine); ; {
		line, err := r.ReadSlice('\n')
		read += len(line)
		if err != nil || read > maxHeader {
			answer(400, map[string]any{"error": "bad request"})
			return
		}
		if strings.TrimSpace(string(line)) == "" {
			break
		}
	}
	if len(fields) != 3 || !strings.HasPrefix(fields[2], "HTTP/1.") {
		answer(400, map[string]any{"error": "bad request"})
		return
	}
	method, target := fields[0], fields[1]
	headOnly = method == "HEAD"
	if method != "GET" && method != "HEAD" {
		answer(405, map[string]any{"error": "only GET"})
		return
	}
	path, _, _ := strings.Cut(target, "?")
	switch path {
	case "/readyz", "/healthz":
		probe := s.backend.Ready
		if path == "/healthz" {
			probe = s.backend.Health
		}
		ok, why := probe()
		status := 200
		if !ok {
			status = 503
		}
		answer(status, map[string]any{"ok": ok, "reason": why})
	case "/metrics":
		body := s.backend.Metrics()
		head := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n", metricsContentType, len(body))
		if headOnly {
			body = nil
		}
		_, _ = quiet(conn).Write(append([]byte(head), body...))
		linger(conn)
	case "/status":
		services, err := s.backend.Status(nil)
		if err != nil {
			answer(500, map[string]any{"error": err.Error()})
			return
		}
		answer(200, map[string]any{"version": Version, "services": services})
	default:
		answer(404, map[string]any{"error": "not found: try /readyz, /healthz, /status or /metrics"})
	}
}

// metricsContentType is the Prometheus text exposition format's (package metrics).
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

var statusText = map[int]string{200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error", 503: "Service Unavailable"}

// respond writes the answer; headOnly (HEAD) sends the headers GET would get, Content-Length
// included, without the body.
func respond(w io.Writer, status int, body any, headOnly bool) {
	data, _ := jsonwire.Marshal(body)
	data = append(data, '\n')
	allow := ""
	if status == 405 {
		allow = "Allow: GET, HEAD\r\n"
	}
	head := fmt.Sprintf("HTTP/1.1 %d %s\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
		status, statusText[status], allow, len(data))
	if headOnly {
		data = nil
	}
	_, _ = w.Write(append([]byte(head), data...))
}

// linger ends the answer and reads what the client still sends (the rest of a refused request,
// a body), within the deadline: closing with input unread makes the kernel reset the connection,
// and the reset can destroy the answer before the client has read it.
func linger(conn net.Conn) {
	c, ok := conn.(interface{ CloseWrite() error })
	if !ok {
		return // without a half close the client would see no end of the answer until the deadline
	}
	_ = c.CloseWrite()
	_, _ = io.Copy(io.Discard, io.LimitReader(conn, 1<<20))
}
