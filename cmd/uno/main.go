// Command uno is a container init: PID 1 for one program, or a drop-in for tini, docker-init,
// dumb-init and catatonit when invoked under their names. See docs/ and `uno --help`.
//
// uno must be linked with asynchronous preemption off (the Makefile passes
// -X=runtime.godebugDefault=asyncpreemptoff=1): the runtime preempts its own threads with SIGURG,
// and with that off every SIGURG uno receives was sent from outside and belongs to the program.
// Go 1.26 refuses `//go:debug asyncpreemptoff=1` as an unknown setting, hence the linker flag.
package main

import (
	"os"

	"github.com/uno-init/uno/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args, cli.Environ, os.Stdout, os.Stderr))
}
