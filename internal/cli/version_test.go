package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// dockerInitVersion reads `INIT --version` as dockerd does for `docker info` (InitCommit) and
// `docker version` (the init's component), from its documented behaviour: the output, trimmed,
// is split at " - "; a second part of the form "git.X", X without a dot, gives the commit; a first
// part starting "tini version " gives the version. Neither is an error, which docker shows as
// "N/A". Newer dockerd versions trim each part rather than the whole output, which accepts the
// same single line.
func dockerInitVersion(out string) (version, commit string, err error) {
	parts := strings.Split(strings.TrimSpace(out), " - ")
	if len(parts) >= 2 {
		if git := strings.Split(parts[1], "."); len(git) == 2 && git[0] == "git" {
			commit = git[1]
		}
	}
	if v, ok := strings.CutPrefix(parts[0], "tini version "); ok {
		version = v
	}
	if version == "" && commit == "" {
		return "", "", errors.New("unknown output format")
	}
	return version, commit, nil
}

// TestVersionDockerParses: dockerd runs its --init-path with --version under the file's own name
// and takes the commit it shows in `docker info` from the output. With the README's
// `dockerd --init-path /usr/bin/uno` that name is uno; it must parse as well as docker-init's.
func TestVersionDockerParses(t *testing.T) {
	for _, v := range []string{"", "1.2.3", "v0.4.0-3-gabc1234-dirty", "38997df"} {
		old := version
		version = v
		want := strings.ReplaceAll(Version(), ".", "-")
		for _, argv0 := range []string{"/usr/bin/uno", "/usr/libexec/docker/docker-init", "tini", "catatonit"} {
			var out, errOut bytes.Buffer
			if code := Main([]string{argv0, "--version"}, env(), &out, &errOut); code != 0 || errOut.Len() != 0 {
				t.Fatalf("%s --version: exit %d, stderr %q", argv0, code, errOut.String())
			}
			_, commit, err := dockerInitVersion(out.String())
			if err != nil || commit != want {
				t.Errorf("version %q: dockerd reads %s --version %q as commit %q (%v), want %q", v, argv0, out.String(), commit, err, want)
			}
			if f := strings.Fields(out.String()); strings.HasSuffix(argv0, "uno") && (len(f) < 2 || f[0] != "uno" || f[1] != Version()) {
				t.Errorf("uno --version = %q, want it to start with \"uno %s\" for people", out.String(), Version())
			}
		}
		version = old
	}
}
