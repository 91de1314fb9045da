package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Metrics: every series checked by value in a scenario with restarts, exits, orphans, output
// and a forwarded signal; the exposition validated by promtool and scraped by a real Prometheus.

// httpGet sends one GET to addr and returns the status, the headers and the body.
func httpGet(t *testing.T, addr, path string) (int, string, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, "", err.Error()
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	data, _ := io.ReadAll(conn)
	var code int
	fmt.Sscanf(string(data), "HTTP/1.1 %d", &code)
	head, body, _ := strings.Cut(string(data), "\r\n\r\n")
	return code, head, body
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$`)

// parseSamples reads an exposition into series -> value, failing on a line it cannot read.
func parseSamples(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE ") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not a sample line: %q", line)
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("bad value in %q", line)
		}
		if _, dup := out[m[1]]; dup {
			t.Errorf("series %s twice", m[1])
		}
		out[m[1]] = v
	}
	return out
}

const metricsConf = `
[services.flaky]
command = ["sh", "-c", "echo one; echo two >&2; exit 3"]
restart = "on-failure"
restart_limit = 2
restart_delay = "10ms"
essential = false

[services.job]
type = "oneshot"
command = ["@TESTPROG@", "orphans", "5"]

[services.web]
command = ["sleep", "1000"]
health = { exec = ["true"], interval = "30ms" }
`

func TestMetricsByValue(t *testing.T) {
	needRoot(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p, _, socket, _ := startControlled(t, metricsConf, "--http", addr)
	poll(t, "flaky failed, job completed, web healthy", func() bool {
		st := statusOf(t, socket)
		return st["flaky"].State == "failed" && st["job"].State == "completed" && st["web"].Health == "healthy"
	})
	if r := runCtl(t, socket, "restart", "web"); r.code != 0 {
		t.Fatalf("restart web: %d %s", r.code, r.stderr)
	}
	poll(t, "web healthy again", func() bool { return statusOf(t, socket)["web"].Health == "healthy" })
	// SIGWINCH goes to every running service: web, whose sleep ignores it.
	p.signal(syscall.SIGWINCH)
	var got map[string]float64
	poll(t, "the orphans and the forwarded signal counted", func() bool {
		code, _, body := httpGet(t, addr, "/metrics")
		if code != 200 {
			return false
		}
		got = parseSamples(t, body)
		return got[`uno_reaped_orphans_total`] >= 5 && got[`uno_signals_forwarded_total{signal="SIGWINCH"}`] == 1
	})
	st := statusOf(t, socket)
	want := map[string]float64{
		`uno_service_restarts_total{service="flaky"}`:                  2,
		`uno_service_restarts_total{service="job"}`:                    0,
		`uno_service_restarts_total{service="web"}`:                    0,
		`uno_service_exits_total{service="flaky",reason="failed"}`:     3,
		`uno_service_exits_total{service="flaky",reason="exited"}`:     0,
		`uno_service_exits_total{service="job",reason="exited"}`:       1,
		`uno_service_exits_total{service="web",reason="stopped"}`:      1,
		`uno_service_exits_total{service="web",reason="unhealthy"}`:    0,
		`uno_service_exits_total{service="web",reason="start_failed"}`: 0,
		`uno_service_last_exit_code{service="flaky"}`:                  3,
		`uno_service_last_exit_code{service="job"}`:                    0,
		`uno_service_last_exit_code{service="web"}`:                    143,
		`uno_service_state{service="flaky",state="failed"}`:            1,
		`uno_service_state{service="flaky",state="running"}`:           0,
		`uno_service_state{service="job",state="completed"}`:           1,
		`uno_service_state{service="web",state="running"}`:             1,
		`uno_service_up{service="flaky"}`:                              0,
		`uno_service_up{service="web"}`:                                1,
		`uno_service_ready{service="flaky"}`:                           0,
		`uno_service_ready{service="job"}`:                             1,
		`uno_service_ready{service="web"}`:                             1,
		`uno_service_healthy{service="web"}`:                           1,
		`uno_service_healthy{service="flaky"}`:                         1,
		`uno_health_check_failures_total{service="web"}`:               0,
		`uno_log_lines_total{service="flaky",stream="stdout"}`:         3,
		`uno_log_lines_total{service="flaky",stream="stderr"}`:         3,
		`uno_log_bytes_total{service="flaky",stream="stdout"}`:         12,
		`uno_log_bytes_total{service="flaky",stream="stderr"}`:         12,
		`uno_reaped_orphans_total`:                                     5,
		`uno_signals_forwarded_total{signal="SIGWINCH"}`:               1,
		`uno_service_start_time_seconds{service="web"}`:                float64(st["web"].StartedAt.UnixNano()) / 1e9,
	}
	for series, v := range want {
		g, ok := got[series]
		if !ok {
			t.Errorf("no series %s", series)
		} else if g != v && !(strings.HasPrefix(series, "uno_service_start_time") && g-v < 1e-6 && v-g < 1e-6) {
			t.Errorf("%s = %v, want %v", series, g, v)
		}
	}
	if _, ok := got[`uno_health_check_failures_total{service="flaky"}`]; ok {
		t.Errorf("a health series for a service without a check")
	}
	// The histogram: cumulative buckets ending in +Inf = count, sum within the count's time.
	count := got[`uno_health_check_duration_seconds_count{service="web"}`]
	if count < 2 || got[`uno_health_check_duration_seconds_bucket{service="web",le="+Inf"}`] != count || got[`uno_health_check_duration_seconds_sum{service="web"}`] <= 0 {
		t.Errorf("histogram: count %v, +Inf %v, sum %v", count, got[`uno_health_check_duration_seconds_bucket{service="web",le="+Inf"}`], got[`uno_health_check_duration_seconds_sum{service="web"}`])
	}
	if got[`uno_health_check_duration_seconds_bucket{service="web",le="0.005"}`] > got[`uno_health_check_duration_seconds_bucket{service="web",le="10"}`] {
		t.Errorf("buckets not cumulative")
	}
	if rss := got[`uno_process_resident_memory_bytes`]; rss < 1<<20 || rss > 1<<30 {
		t.Errorf("resident memory %v", rss)
	}
	if !strings.Contains(fmt.Sprint(keys(got)), `uno_build_info{version="`) {
		t.Errorf("no uno_build_info")
	}

	// The HTTP answer's type, and uno ctl metrics: the same series.
	_, head, body := httpGet(t, addr, "/metrics")
	if !strings.Contains(head, "Content-Type: text/plain; version=0.0.4; charset=utf-8") {
		t.Errorf("head: %q", head)
	}
	r := runCtl(t, socket, "metrics")
	if r.code != 0 {
		t.Fatalf("ctl metrics: %d %s", r.code, r.stderr)
	}
	viaCtl := parseSamples(t, r.stdout)
	viaHTTP := parseSamples(t, body)
	if len(viaCtl) != len(viaHTTP) {
		t.Errorf("ctl metrics has %d series, /metrics %d", len(viaCtl), len(viaHTTP))
	}
	for k, v := range viaHTTP {
		if c, ok := viaCtl[k]; !ok || (c != v && !strings.Contains(k, "memory") && !strings.Contains(k, "health_check")) {
			t.Errorf("%s: ctl %v, http %v", k, c, v)
		}
	}
	promtoolCheck(t, body)
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}

func keys(m map[string]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// promtoolCheck validates an exposition with Prometheus's own linter.
func promtoolCheck(t *testing.T, text string) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found (Debian package prometheus, in TEST_PACKAGES): %v", err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\n--- exposition:\n%s", err, out, text)
	}
}

func TestMetricsSingleProgramPromtool(t *testing.T) {
	needRoot(t)
	socket := filepath.Join(socketDir(t), "uno.sock")
	p := startUno(t, startOpts{mode: asPID1}, "--socket", socket, "--", "sleep", "1000")
	poll(t, "the control socket", func() bool { _, err := os.Stat(socket); return err == nil })
	p.signal(syscall.SIGWINCH)
	var r ctlResult
	poll(t, "the forwarded signal counted", func() bool {
		r = runCtl(t, socket, "metrics")
		return strings.Contains(r.stdout, `uno_signals_forwarded_total{signal="SIGWINCH"} 1`)
	})
	got := parseSamples(t, r.stdout)
	for series, v := range map[string]float64{`uno_service_up{service="sleep"}`: 1, `uno_service_ready{service="sleep"}`: 1, `uno_reaped_orphans_total`: 0} {
		if got[series] != v {
			t.Errorf("%s = %v, want %v", series, got[series], v)
		}
	}
	promtoolCheck(t, r.stdout)
	p.signal(syscall.SIGTERM)
	p.expectExit(143)
}

// TestMetricsScrapedByPrometheus: a real Prometheus server on loopback scrapes /metrics; its
// HTTP API answers up == 1 and the restarts uno counted.
func TestMetricsScrapedByPrometheus(t *testing.T) {
	needRoot(t)
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("prometheus not found (Debian package prometheus, in TEST_PACKAGES): %v", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p, _, socket, _ := startControlled(t, metricsConf, "--http", addr)
	poll(t, "flaky failed", func() bool { return statusOf(t, socket)["flaky"].State == "failed" })

	dir := t.TempDir()
	promAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	conf := fmt.Sprintf("global:\n  scrape_interval: 100ms\n  scrape_timeout: 100ms\nscrape_configs:\n  - job_name: uno\n    static_configs:\n      - targets: ['%s']\n", addr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	query := func(q string) (float64, bool) {
		resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return 0, false
		}
		defer resp.Body.Close()
		var doc struct {
			Status string
			Data   struct {
				Result []struct {
					Value []any
				}
			}
		}
		if json.NewDecoder(resp.Body).Decode(&doc) != nil || doc.Status != "success" || len(doc.Data.Result) != 1 {
			return 0, false
		}
		s, _ := doc.Data.Result[0].Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		return v, err == nil
	}
	end := time.Now().Add(60 * time.Second) // Prometheus itself starts in seconds on a loaded machine
	for {
		up, ok1 := query(`up{job="uno"}`)
		restarts, ok2 := query(`uno_service_restarts_total{service="flaky"}`)
		if ok1 && ok2 && up == 1 && restarts == 2 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("prometheus: up %v (%v), restarts %v (%v)\n%s", up, ok1, restarts, ok2, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v, ok := query(`uno_service_exits_total{service="flaky",reason="failed"}`); !ok || v != 3 {
		t.Errorf("exits via prometheus: %v %v", v, ok)
	}
	p.signal(syscall.SIGTERM)
	p.expectExit(0)
}
