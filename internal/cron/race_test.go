//go:build race

package cron

// raceEnabled: the race detector slows the zone property test tenfold (zones_test.go).
const raceEnabled = true
