package kube

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/uno-init/uno/internal/testbin"
)

// suiteFiles are the files of examples/kubernetes that this suite runs. The others (pod.yaml,
// restricted.yaml) need a registry's image or a Secret, which a standalone kubelet cannot have;
// test/oci checks them.
var suiteFiles = []string{"single-program.yaml", "no-init.yaml", "services.yaml", "uno.toml",
	"shared-pid.yaml", "sidecar.yaml", "crashloop.yaml"}

// TestDocsShowManifests checks that docs/engines.md shows each file of examples/kubernetes that
// this suite runs exactly as it is, so the page cannot drift from what was measured. It needs
// no node.
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
	for _, name := range suiteFiles {
		data, err := os.ReadFile(filepath.Join(root, "examples", "kubernetes", name))
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
		t.Errorf("docs/engines.md shows examples/kubernetes/%s, which the suite does not run", name)
	}
}
