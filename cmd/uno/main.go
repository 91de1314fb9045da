// Command uno is a container init: PID 1 for one program, or a drop-in for tini, docker-init,
// dumb-init and catatonit when invoked under their names. See docs/ and `uno --help`.
//
// uno should be linked with asynchronous preemption off, as the Makefile does
// (-X=runtime.godebugDefault=asyncpreemptoff=1, and -X=...internal/signals.preemptOffLinked=1 to
// say so): the runtime preempts its own threads with SIGURG, and with that off every SIGURG uno
// receives was sent from outside and belongs to the program. Go 1.26 refuses
// `//go:debug asyncpreemptoff=1` and a `godebug` line in go.mod as unknown settings, hence the
// linker flags. A plain `go install` build is still right, without SIGURG: see
// signals.PreemptOff.
package main

import (
	"os"

	"github.com/uno-init/uno/internal/cli"
	_ "github.com/uno-init/uno/internal/earlycatch" // catching every signal starts in its init
)

func main() {
	os.Exit(cli.Main(os.Args, cli.Environ, os.Stdout, os.Stderr))
}
