package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/uno-init/uno/internal/control"
	"github.com/uno-init/uno/internal/jsonwire"
)

const ctlUsage = `usage: uno ctl [--socket PATH] COMMAND [args]

  status [--json] [NAME...]     services: state, readiness, pid, uptime, restarts, last exit,
                                health
  start [--no-wait] NAME...     start services (and what they depend on); wait until ready
  stop [--no-wait] NAME...      stop services (and, first, what depends on them)
  restart [--no-wait] NAME...   stop and start services; their dependents keep running
  signal SIGNAL NAME...         send SIGNAL to each service's main process
  run NAME...                   start a run of cron jobs now (as their concurrency allows)
  logs [-f] [-n N] NAME         the last N (default 100) lines of a service's output; -f follows
  logs --files [-n N] NAME      the last N lines of the service's current log_file
  logs --reopen [NAME...]       reopen log files (all, or the services named), after logrotate
  reload [--dry-run]            re-read the configuration: changed services restart (and what
                                runs depending on them), new ones start, removed ones stop; an
                                invalid file changes nothing; --dry-run only says what it would do
  ready                         exit 0 if every essential service is ready, else 1
  health                        exit 0 if no essential service is failing or restarting, else 1
  wait-ready [--timeout D]      wait until ready (default timeout 60s); exit 1 on timeout
  metrics                       uno's Prometheus metrics, as GET /metrics serves them

The socket is --socket, $UNO_SOCKET, or /run/uno/uno.sock. Exit status: 0 done, 1 failed or
not ready/healthy, 2 usage error.
`

// ctl runs `uno ctl`: one request to a running uno, its answer on stdout.
func ctl(args []string, env lookupFunc, stdout, stderr io.Writer) int {
	c := &ctlCommand{stdout: stdout, stderr: stderr, client: control.Client{}}
	if v, ok := env("UNO_SOCKET"); ok && v != "" {
		c.client.Path = v
	}
	code, err := c.run(args)
	if err != nil {
		fmt.Fprintf(stderr, "uno ctl: %v\n", err)
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprint(stderr, ctlUsage)
			return 2
		}
	}
	return code
}

type ctlCommand struct {
	stdout, stderr io.Writer
	client         control.Client
}

func (c *ctlCommand) run(args []string) (int, error) {
	help := false
	rest, err := parseOptions([]option{
		{long: "socket", hasValue: true, set: func(v string) error { c.client.Path = v; return nil }},
		{short: 'h', long: "help", set: func(string) error { help = true; return nil }},
	}, args)
	if err != nil {
		return 2, err
	}
	if help {
		fmt.Fprint(c.stdout, ctlUsage)
		return 0, nil
	}
	if len(rest) == 0 {
		return 2, usagef("no command given")
	}
	if c.client.Path == "" {
		c.client.Path = control.FindSocket()
	}
	cmd, args := rest[0], rest[1:]
	switch cmd {
	case "status":
		return c.status(args)
	case "start", "stop", "restart":
		return c.act(cmd, args)
	case "run":
		if len(args) == 0 {
			return 2, usagef("run needs at least one cron job")
		}
		return c.do(control.Request{Command: control.CmdRun, Names: args})
	case "signal":
		if len(args) < 2 {
			return 2, usagef("signal needs a signal and at least one service")
		}
		return c.do(control.Request{Command: control.CmdSignal, Signal: args[0], Names: args[1:]})
	case "reload":
		dryRun := len(args) == 1 && args[0] == "--dry-run"
		if len(args) > 0 && !dryRun {
			return 2, usagef("reload takes no arguments but --dry-run")
		}
		return c.do(control.Request{Command: control.CmdReload, DryRun: dryRun})
	case "logs":
		return c.logs(args)
	case "ready", "health":
		if len(args) > 0 {
			return 2, usagef("%s takes no arguments", cmd)
		}
		return c.probe(cmd)
	case "wait-ready":
		return c.waitReady(args)
	case "metrics":
		if len(args) > 0 {
			return 2, usagef("metrics takes no arguments")
		}
		reply, err := c.client.Do(control.Request{Command: control.CmdMetrics})
		if err != nil {
			return 1, err
		}
		if reply.Error != "" {
			return 1, errors.New(reply.Error)
		}
		fmt.Fprint(c.stdout, reply.Metrics)
		return 0, nil
	}
	return 2, usagef("unknown command %q", cmd)
}

// do sends a request and prints its one-line answer.
func (c *ctlCommand) do(req control.Request) (int, error) {
	reply, err := c.client.Do(req)
	if err != nil {
		return 1, err
	}
	if reply.Error != "" {
		return 1, errors.New(reply.Error)
	}
	if reply.Message != "" {
		fmt.Fprintln(c.stdout, reply.Message)
	}
	return 0, nil
}

func (c *ctlCommand) act(cmd string, args []string) (int, error) {
	req := control.Request{Command: cmd}
	names, err := parseOptions([]option{
		{long: "no-wait", set: func(string) error { req.NoWait = true; return nil }},
	}, args)
	if err != nil {
		return 2, err
	}
	if len(names) == 0 {
		return 2, usagef("%s needs at least one service", cmd)
	}
	req.Names = names
	return c.do(req)
}

func (c *ctlCommand) probe(cmd string) (int, error) {
	reply, err := c.client.Do(control.Request{Command: cmd})
	if err != nil {
		return 1, err
	}
	if reply.Error != "" {
		return 1, errors.New(reply.Error)
	}
	fmt.Fprintln(c.stdout, reply.Message)
	if !reply.OK {
		return 1, nil
	}
	return 0, nil
}

// waitReady asks until uno says ready. A socket that does not exist yet (uno still starting)
// is waited for too.
func (c *ctlCommand) waitReady(args []string) (int, error) {
	timeout := 60 * time.Second
	rest, err := parseOptions([]option{
		{long: "timeout", hasValue: true, set: func(v string) (err error) { timeout, err = parseGrace(v); return err }},
	}, args)
	if err != nil {
		return 2, err
	}
	if len(rest) > 0 {
		return 2, usagef("wait-ready takes no arguments")
	}
	deadline := time.Now().Add(timeout)
	c.client.Timeout = min(timeout, 10*time.Second)
	var last string
	for {
		reply, err := c.client.Do(control.Request{Command: control.CmdReady})
		switch {
		case err == nil && reply.OK:
			fmt.Fprintln(c.stdout, reply.Message)
			return 0, nil
		case err == nil:
			last = reply.Message
			if reply.Error != "" {
				last = reply.Error
			}
		default:
			last = err.Error()
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(c.stdout, "still not ready after %v: %s\n", timeout, last)
			return 1, nil
		}
		time.Sleep(min(100*time.Millisecond, time.Until(deadline)+time.Millisecond))
	}
}

func (c *ctlCommand) status(args []string) (int, error) {
	asJSON := false
	names, err := parseOptions([]option{
		{long: "json", set: func(string) error { asJSON = true; return nil }},
	}, args)
	if err != nil {
		return 2, err
	}
	reply, err := c.client.Do(control.Request{Command: control.CmdStatus, Names: names})
	if err != nil {
		return 1, err
	}
	if reply.Error != "" {
		return 1, errors.New(reply.Error)
	}
	if asJSON {
		out, _ := jsonwire.MarshalIndent(map[string]any{"version": control.Version, "services": reply.Services}, "", "  ")
		fmt.Fprintln(c.stdout, string(out))
		return 0, nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tREADY\tPID\tUPTIME\tRESTARTS\tLAST EXIT\tHEALTH\tSTATUS")
	for _, s := range reply.Services {
		ready := "no"
		if s.Ready {
			ready = "yes"
		}
		pid, uptime, last := "-", "-", "-"
		if s.Pid != 0 {
			pid = strconv.Itoa(s.Pid)
			if s.MainPid != 0 && s.MainPid != s.Pid {
				pid += " (main " + strconv.Itoa(s.MainPid) + ")"
			}
			uptime = formatUptime(time.Duration(s.UptimeSeconds * float64(time.Second)))
		}
		if s.LastExit != nil {
			last = s.LastExit.Description
		}
		health := "-"
		if s.Health != "" {
			health = s.Health
			if s.HealthFailures > 0 {
				health += fmt.Sprintf(" (%d failed: %s)", s.HealthFailures, s.HealthError)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", s.Name, s.State, ready, pid, uptime, s.Restarts, last, health, s.Status)
	}
	tw.Flush()
	printJobs(c.stdout, reply.Services)
	return 0, nil
}

// formatUptime shows a duration the way ps and docker do: the two largest units.
func formatUptime(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

func (c *ctlCommand) logs(args []string) (int, error) {
	req := control.Request{Command: control.CmdLogs, Lines: 100}
	names, err := parseOptions([]option{
		{short: 'f', long: "follow", set: func(string) error { req.Follow = true; return nil }},
		{long: "files", set: func(string) error { req.Files = true; return nil }},
		{long: "reopen", set: func(string) error { req.Reopen = true; return nil }},
		{short: 'n', long: "lines", hasValue: true, set: func(v string) (err error) {
			req.Lines, err = strconv.Atoi(v)
			if err != nil || req.Lines < 0 {
				return fmt.Errorf("want a number of lines, got %q", v)
			}
			return nil
		}},
	}, args)
	if err != nil {
		return 2, err
	}
	if req.Reopen && (req.Files || req.Follow) {
		return 2, usagef("logs --reopen takes no other option")
	}
	if len(names) != 1 && !req.Reopen {
		return 2, usagef("logs needs exactly one service")
	}
	if req.Files && req.Follow {
		return 2, usagef("logs --files does not follow: use -f without --files")
	}
	req.Names = names
	var failed error
	err = c.client.Stream(req, func(r control.Reply) error {
		if r.Error != "" {
			failed = errors.New(r.Error)
			return nil
		}
		if r.Message != "" {
			fmt.Fprintln(c.stdout, r.Message)
		}
		if !r.Done {
			fmt.Fprintln(c.stdout, strings.TrimSuffix(r.Line, "\n"))
		}
		return nil
	})
	if err == nil {
		err = failed
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}
