package kube

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/uno-init/uno/internal/testbin"
)

// The images the pods run, as the manifests in examples/kubernetes name them. The kubelet and
// the CRI complete a short name with docker.io/ (and library/ for a single word).
const (
	baseImage  = "docker.io/uno-e2e/base:1"
	pauseImage = "docker.io/uno-e2e/pause:1"
	// The same pause image with Debian's catatonit in uno's place: the peer beside it.
	peerPauseImage = "docker.io/uno-e2e/catatonit-pause:1"
	peerCatatonit  = "/usr/bin/catatonit"
)

// file is one entry of an image layer.
type file struct {
	name string // path in the image, without the leading /
	mode int64  // with the type: a directory is a name ending in /, a link has target
	data []byte
	link string
}

// importImages writes the two images as docker archives and imports them into containerd's
// k8s.io namespace, where the CRI finds them.
//
// base: busybox (every applet), uno at /usr/bin/uno, examples/kubernetes/uno.toml at
// /etc/uno/uno.toml, root and nobody in /etc/passwd. pause: uno alone, as /catatonit, with the
// entrypoint `/catatonit -P`: catatonit's pause mode, which reaps until SIGTERM and exits 0.
// catatonit-pause: the same with Debian's catatonit (static) as /catatonit.
func importImages() error {
	uno, err := os.ReadFile(node.uno)
	if err != nil {
		return err
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		return fmt.Errorf("busybox is not installed (make e2e-kube installs busybox-static): %v", err)
	}
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return err
	}
	list, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return fmt.Errorf("busybox --list: %v", err)
	}
	toml, err := os.ReadFile(filepath.Join(testbin.RepoRoot(), "examples", "kubernetes", "uno.toml"))
	if err != nil {
		return err
	}
	base := []file{
		{name: "bin/", mode: 0o755}, {name: "usr/", mode: 0o755}, {name: "usr/bin/", mode: 0o755},
		{name: "etc/", mode: 0o755}, {name: "etc/uno/", mode: 0o755}, {name: "tmp/", mode: 0o1777},
		{name: "proc/", mode: 0o555}, {name: "sys/", mode: 0o555}, {name: "dev/", mode: 0o755},
		{name: "run/", mode: 0o755}, {name: "var/", mode: 0o755},
		{name: "bin/busybox", mode: 0o755, data: bb},
		{name: "usr/bin/uno", mode: 0o755, data: uno},
		{name: "etc/uno/uno.toml", mode: 0o644, data: toml},
		{name: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{name: "etc/group", mode: 0o644, data: []byte("root:x:0:\nnogroup:x:65534:\n")},
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet != "busybox" {
			base = append(base, file{name: "bin/" + applet, link: "busybox"})
		}
	}
	pause := []file{{name: "catatonit", mode: 0o755, data: uno}}
	catatonit, err := os.ReadFile(peerCatatonit)
	if err != nil {
		return fmt.Errorf("catatonit is not installed (make e2e-kube installs it): %v", err)
	}
	peerPause := []file{{name: "catatonit", mode: 0o755, data: catatonit}}
	images := []struct {
		ref        string
		files      []file
		entrypoint []string
	}{
		{baseImage, base, nil},
		{pauseImage, pause, []string{"/catatonit", "-P"}},
		{peerPauseImage, peerPause, []string{"/catatonit", "-P"}},
	}
	for _, img := range images {
		archive, err := dockerArchive(img.ref, img.files, img.entrypoint)
		if err != nil {
			return err
		}
		path := filepath.Join(baseDir, "images", strings.NewReplacer("/", "_", ":", "_").Replace(img.ref)+".tar")
		if err := os.WriteFile(path, archive, 0o600); err != nil {
			return err
		}
		if _, err := ctr("images", "import", path); err != nil {
			return err
		}
	}
	return nil
}

// dockerArchive is the image as `docker save` writes it: manifest.json, the config, and one
// uncompressed layer.
func dockerArchive(ref string, files []file, entrypoint []string) ([]byte, error) {
	layer, err := tarOf(files)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(layer)
	diffID := "sha256:" + hex.EncodeToString(sum[:])
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      time.Unix(0, 0).UTC().Format(time.RFC3339),
		"config": map[string]any{
			"Env":        []string{"PATH=/usr/bin:/bin"},
			"Entrypoint": entrypoint,
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	if err != nil {
		return nil, err
	}
	manifest, err := json.Marshal([]map[string]any{{
		"Config":   "config.json",
		"RepoTags": []string{strings.TrimPrefix(ref, "docker.io/")},
		"Layers":   []string{"layer.tar"},
	}})
	if err != nil {
		return nil, err
	}
	return tarOf([]file{
		{name: "manifest.json", mode: 0o644, data: manifest},
		{name: "config.json", mode: 0o644, data: config},
		{name: "layer.tar", mode: 0o644, data: layer},
	})
}

func tarOf(files []file) ([]byte, error) {
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		switch {
		case strings.HasSuffix(f.name, "/"):
			h.Typeflag = tar.TypeDir
		case f.link != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, f.link, 0o777
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := w.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
