package jsonwire_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoEncodingJSON fails if a package of uno imports encoding/json again: jsonwire owns uno's
// JSON, and encoding/json's decoder costs the binary about 30 KB. log/slog is the one importer
// allowed (its JSONHandler, which uno does not use, but whose encoder slog's default handler
// keeps in the binary); anything else that would bring encoding/json back fails here.
func TestNoEncodingJSON(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the dependencies with")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "../../cmd/uno").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := map[string]bool{"log/slog": true}
	for line := range strings.Lines(string(out)) {
		pkg, imports, _ := strings.Cut(strings.TrimSpace(line), " ")
		for imp := range strings.FieldsSeq(imports) {
			if imp == "encoding/json" && !allowed[pkg] {
				t.Errorf("%s imports encoding/json: use internal/jsonwire (issue 19, the binary's size)", pkg)
			}
		}
	}
}
