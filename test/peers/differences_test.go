package peers

// The deliberate differences: each field where uno, under a peer's name, gives another value
// than the peer, on purpose. docs/compatibility.md shows the same table; TestDifferencesDocumented
// checks it, and `go test ./test/peers -run TestDifferencesDocumented -update` rewrites it.

import (
	"flag"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uno-init/uno/internal/testbin"
)

var update = flag.Bool("update", false, "rewrite the deliberate-differences table in docs/compatibility.md")

// difference allows one field of some scenarios to differ, with the value uno must give.
type difference struct {
	peers    string // comma-separated peer names, "*" for all
	scenario string // a path.Match pattern over scenario names
	field    string
	uno      string // the value uno gives; "*" for any (output whose text differs by design)
	why      string
}

const (
	tinis          = "tini,tini-static,docker-init"
	tinisCatatonit = tinis + ",catatonit"
	faultSignals   = "uno forwards every catchable signal, the fault signals sent with kill(2) too; tini and " +
		"catatonit leave ABRT, SEGV and SYS at their default action, so one sent to them kills them " +
		"(and their container)"
)

var allowed = []difference{
	{tinis, "-v*", "init stdout", "(absent)",
		"uno writes its own lines to stderr only, under every name; tini writes info and debug to stdout"},
	{tinisCatatonit, "*", "init cwd", "/",
		"once the program runs uno's directory is /, in every mode, so that it never keeps a mount busy; " +
			"dumb-init does the same, tini and catatonit 0.1.7 stay where they were started"},
	{tinisCatatonit, "caller's mask*", "program SigBlk", "USR1,USR2,ALRM,TSTP,WINCH,RTMIN+6",
		"the Go runtime unblocks HUP, INT, QUIT, TERM and the fault signals in every thread before uno's " +
			"code runs and keeps no copy of the caller's mask, so a caller's block on them is lost"},
	{tinisCatatonit, "caller's ignored signals*", "program SigIgn", "HUP,INT,TSTP,TTIN,TTOU",
		"the Go runtime installs its handler on every signal but HUP, INT, CONT, TSTP, TTIN and TTOU " +
			"before uno's code runs, so a caller's ignore on the others (QUIT, USR1, PIPE, RTMIN+6 " +
			"here) is lost and the program starts with the default action"},
	{"dumb-init", "caller's ignored signals*", "program SigIgn", "-",
		"dumb-init resets signals 1-31 for its program, and so does uno, but it keeps an ignore on a " +
			"real-time signal (RTMIN+6 here); the Go runtime installs its handler on every real-time " +
			"signal before uno's code runs, so that ignore is lost"},
	{"catatonit", "*", "program SigBlk", "-",
		"catatonit blocks TSTP, TTIN and TTOU in its program; uno does not (it drops them when they " +
			"are sent to it)"},
	{"catatonit", "LISTEN_PID", "program LISTEN_PID", "init",
		"catatonit rewrites a LISTEN_PID that names itself to its program's pid; uno passes the " +
			"environment on as it is"},
	{tinisCatatonit, "signal ABRT", "ABRT", "prog:ABRT", faultSignals},
	{tinisCatatonit, "signal ABRT", "exit", "137", faultSignals},
	{tinisCatatonit, "signal SEGV", "SEGV", "prog:SEGV", faultSignals},
	{tinisCatatonit, "signal SEGV", "exit", "137", faultSignals},
	{tinisCatatonit, "signal SYS", "SYS", "prog:SYS", faultSignals},
	{tinisCatatonit, "signal SYS", "exit", "137", faultSignals},
}

// allowedIndex finds the row that allows uno's value in this field, if any.
func allowedIndex(peer, scenario, field, uno string) (int, bool) {
	for i, d := range allowed {
		if d.field != field || (d.uno != "*" && d.uno != uno) {
			continue
		}
		if d.peers != "*" && !contains(strings.Split(d.peers, ","), peer) {
			continue
		}
		if ok, _ := path.Match(d.scenario, scenario); ok {
			return i, true
		}
	}
	return 0, false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.TrimSpace(v) == s {
			return true
		}
	}
	return false
}

const (
	docsHeading = "## Deliberate differences"
	docsHeader  = "| Peers | Scenarios | Field | uno gives | Why |\n|---|---|---|---|---|\n"
)

// markdownTable renders allowed as the docs show it.
func markdownTable() string {
	var b strings.Builder
	b.WriteString(docsHeader)
	for _, d := range allowed {
		cells := []string{d.peers, "`" + d.scenario + "`", d.field, "`" + d.uno + "`", d.why}
		for i, c := range cells {
			c = strings.ReplaceAll(c, "|", `\|`)
			cells[i] = strings.ReplaceAll(c, "\n", `\n`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

// TestDifferencesDocumented: the docs' table is the harness's, row for row.
func TestDifferencesDocumented(t *testing.T) {
	file := filepath.Join(testbin.RepoRoot(), "docs", "compatibility.md")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	start := strings.Index(doc, docsHeading)
	if start < 0 {
		t.Fatalf("%s has no %q section", file, docsHeading)
	}
	tableAt := strings.Index(doc[start:], docsHeader)
	if tableAt < 0 {
		t.Fatalf("%s: the %q section has no table with the header %q", file, docsHeading, docsHeader)
	}
	tableAt += start
	end := tableAt + len(docsHeader)
	for end < len(doc) && strings.HasPrefix(doc[end:], "|") {
		end += strings.IndexByte(doc[end:], '\n') + 1
	}
	want := markdownTable()
	if *update {
		if err := os.WriteFile(file, []byte(doc[:tableAt]+want+doc[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got := doc[tableAt:end]
	if got != want {
		gotRows, wantRows := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := 0; i < max(len(gotRows), len(wantRows)); i++ {
			g, w := at(gotRows, i), at(wantRows, i)
			if g != w {
				t.Errorf("row %d of the docs' table:\n docs:    %s\n harness: %s", i+1, g, w)
			}
		}
		t.Errorf("docs/compatibility.md is out of date: run go test ./test/peers -run TestDifferencesDocumented -update")
	}
}

func at(rows []string, i int) string {
	if i < len(rows) {
		return rows[i]
	}
	return "(none)"
}
