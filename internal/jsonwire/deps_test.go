package jsonwire_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoEncodingJSON fails if uno's binary depends on encoding/json or log/slog again, directly
// or through any package: jsonwire owns uno's JSON and ulog its log lines. log/slog counts too
// because its default handler keeps encoding/json's whole encoder linked (about 176 KB of the
// binary, issue 19); tests may use both (internal/ulog/ulogtest adapts slog handlers).
func TestNoEncodingJSON(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the dependencies with")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "../../cmd/uno").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	banned := map[string]string{
		"encoding/json": "use internal/jsonwire",
		"log/slog":      "use internal/ulog's Logger",
	}
	seen := 0
	for line := range strings.Lines(string(out)) {
		pkg, imports, _ := strings.Cut(strings.TrimSpace(line), " ")
		seen++
		if why, ok := banned[pkg]; ok {
			t.Errorf("cmd/uno depends on %s: %s (issue 19, the binary's size)", pkg, why)
		}
		for imp := range strings.FieldsSeq(imports) {
			if why, ok := banned[imp]; ok {
				t.Errorf("%s imports %s: %s", pkg, imp, why)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("go list gave %d packages: the listing is not what this test reads\n%s", seen, out)
	}
}
