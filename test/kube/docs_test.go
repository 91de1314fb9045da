package kube

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/uno-init/uno/internal/testbin"
)

// TestDocsShowManifests checks that docs/engines.md shows each file of examples/kubernetes that
// this suite runs exactly as it is, so the page cannot drift from what was measured. It needs
// no node. (pod.yaml, the web-app example, is linked there and checked by test/oci.)
func TestDocsShowManifests(t *testing.T) {
	root := testbin.RepoRoot()
	doc, err := os.ReadFile(filepath.Join(root, "docs", "engines.md"))
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)<!-- examples/kubernetes/([^ ]+) -->\n```[a-z]+\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		shown[m[1]] = m[2]
	}
	files, err := filepath.Glob(filepath.Join(root, "examples", "kubernetes", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		if name == "pod.yaml" {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text, ok := shown[name]
		switch {
		case !ok:
			t.Errorf("docs/engines.md does not show examples/kubernetes/%s", name)
		case text != string(data):
			t.Errorf("docs/engines.md shows examples/kubernetes/%s other than it is: copy the file into the page again", name)
		}
		delete(shown, name)
	}
	for name := range shown {
		t.Errorf("docs/engines.md shows examples/kubernetes/%s, which does not exist", name)
	}
}
