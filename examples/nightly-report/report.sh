#!/bin/sh
# The nightly job: renders a report page (here: what the machine looks like) atomically, so that
# web never serves half a page.
set -eu
out=$1
tmp=$out.tmp
{
	echo "<!doctype html><title>Nightly report</title>"
	echo "<h1>Nightly report</h1>"
	echo "<p>Generated at $(date -u +%Y-%m-%dT%H:%M:%SZ) by $(id -un).</p>"
	echo "<pre>"
	uptime
	df -h / | tail -n 1
	echo "</pre>"
} > "$tmp"
mv "$tmp" "$out"
echo "report written to $out"
