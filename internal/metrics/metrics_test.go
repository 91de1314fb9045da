package metrics

import (
	"strings"
	"testing"
)

func TestWriterEscapesAndFormats(t *testing.T) {
	var w Writer
	w.Family("x_total", "counter", "a \\ help\nline")
	w.Sample("x_total", 3, "service", `a"b\c`+"\nd", "stream", "stdout")
	w.Sample("x_total", 0.25)
	w.Sample("x_total", 1e21)
	want := "# HELP x_total a \\\\ help\\nline\n# TYPE x_total counter\n" +
		`x_total{service="a\"b\\c\nd",stream="stdout"} 3` + "\nx_total 0.25\nx_total 1e+21\n"
	if got := string(w.Bytes()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestHistogramIsCumulative(t *testing.T) {
	h := NewHistogram([]float64{0.1, 1})
	for _, v := range []float64{0.05, 0.1, 0.5, 3} {
		h.Observe(v)
	}
	c := h.Clone()
	h.Observe(0.01) // not in the clone
	var w Writer
	w.Histogram("d_seconds", c, "service", "a")
	want := `d_seconds_bucket{service="a",le="0.1"} 2
d_seconds_bucket{service="a",le="1"} 3
d_seconds_bucket{service="a",le="+Inf"} 4
d_seconds_sum{service="a"} 3.65
d_seconds_count{service="a"} 4
`
	if got := string(w.Bytes()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestRenderHasEveryFamilyOnce(t *testing.T) {
	text := string(Render(&Snapshot{Version: "v", States: []string{"running"}, Services: []Service{{Name: "a", State: "running"}},
		Cron: []CronJob{{Name: "j", Results: map[string]uint64{"failure": 2}, Skips: 1, NextRun: 1.5}}}))
	for _, f := range series {
		if n := strings.Count(text, "# TYPE "+f.name+" "); n != 1 {
			t.Errorf("%s: %d TYPE lines", f.name, n)
		}
	}
	if !strings.Contains(text, `uno_service_state{service="a",state="running"} 1`) {
		t.Errorf("no state sample:\n%s", text)
	}
	// Every result is there, 0 or not; a job that has not run has no last run.
	for _, want := range []string{`uno_cron_runs_total{service="j",result="failure"} 2`, `uno_cron_runs_total{service="j",result="success"} 0`,
		`uno_cron_runs_total{service="j",result="timeout"} 0`, `uno_cron_runs_total{service="j",result="stopped"} 0`,
		`uno_cron_skips_total{service="j"} 1`, `uno_cron_next_run_timestamp_seconds{service="j"} 1.5`} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("no %s in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "uno_cron_last_run_timestamp_seconds{") {
		t.Errorf("a last run for a job that has not run:\n%s", text)
	}
}

func TestSortStrings(t *testing.T) {
	s := []string{"c", "a", "b", "a"}
	SortStrings(s)
	if strings.Join(s, "") != "aabc" {
		t.Errorf("%q", s)
	}
}
