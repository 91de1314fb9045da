#!/bin/sh
# Builds the kubelet from the k8s.io/kubernetes module through the Go module proxy, into $1.
#
# k8s.io/kubernetes's go.mod replaces every k8s.io staging module with ./staging/src/k8s.io/...,
# which the module's zip does not hold, so it cannot be built with `go install ...@version`. A
# throwaway wrapper module requires it and replaces each staging module with its published
# release instead (v1.X.Y's staging modules are published as v0.X.Y). The list of staging modules
# is read from the kubernetes go.mod itself, so it cannot go stale with the version.
set -eu
out=$1
version=${KUBE_VERSION:-v1.34.4}
staging=v0.${version#v1.}
go=${GO:-go}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
$go mod init kubelet-build >/dev/null 2>&1
gomod=$($go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
[ -n "$gomod" ] || { echo "build-kubelet: no go.mod for k8s.io/kubernetes@$version" >&2; exit 1; }
goversion=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")
{
	echo "module kubelet-build"
	echo "go $goversion"
	echo "require k8s.io/kubernetes $version"
	sed -n 's|^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*|replace \1 => \1 '"$staging"'|p' "$gomod"
} > go.mod
grep -c '^replace' go.mod | sed 's/^/build-kubelet: staging modules replaced: /' >&2
# The wrapper takes every other requirement from kubernetes's own go.mod through MVS; -mod=mod
# lets go fill go.sum as it goes.
# The version is stamped as Kubernetes' own build does, so that `kubelet --version` tells it.
pkg=k8s.io/component-base/version
minor=${version#v1.}; minor=${minor%%.*}
ldflags="-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
GOFLAGS=-mod=mod CGO_ENABLED=0 $go build -trimpath -ldflags "$ldflags" -o "$out.tmp" k8s.io/kubernetes/cmd/kubelet
mv "$out.tmp" "$out"
