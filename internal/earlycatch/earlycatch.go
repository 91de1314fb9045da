// Package earlycatch starts catching every signal (signals.Begin) while the rest of uno is still
// initializing: its init runs as soon as the packages it needs are ready, long before main, and
// the registration's round trips to the runtime's signal thread run beside the other packages'
// inits and the reading of the command line instead of after them. cli.Main takes the
// registration over (signals.Begun) and waits for it before anything starts.
//
// Only cmd/uno imports it: a test binary that imported it would catch every signal.
package earlycatch

import (
	"os"

	"github.com/uno-init/uno/internal/signals"
)

// shimName is privs.ShimName (a test checks it), spelled out so that this init does not wait for
// privs' imports to initialize.
const shimName = "uno:privs-shim"

func init() {
	// uno ctl is a client: it keeps Go's default handling (Ctrl-C ends it). The privilege shim
	// only execs a service's program: a signal sent to the service while it is still the shim
	// must do what it would do to the program, the kernel's default action (RestoreDefaults
	// says why Go's own handling is not that), not vanish into a channel nobody reads. Anything
	// else may run a program; a run that does not (--help, a usage error) just exits.
	if len(os.Args) > 0 && os.Args[0] == shimName {
		signals.RestoreDefaults()
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "ctl" {
		return
	}
	signals.Begin()
}
