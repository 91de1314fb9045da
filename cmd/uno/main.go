// Command uno is a container init: PID 1 for one program, or a drop-in for tini, docker-init,
// dumb-init and catatonit when invoked under their names. See docs/ and `uno --help`.
//
// Asynchronous preemption is off: the runtime implements it by sending SIGURG to its own
// threads, and with it off every SIGURG uno sees was sent from outside, so it can be passed on to
// the program like any other signal.
//
//go:debug asyncpreemptoff=1
package main

import (
	"os"

	"github.com/uno-init/uno/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args, cli.Environ, os.Stdout, os.Stderr))
}
