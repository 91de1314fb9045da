// Package config reads what uno is asked to run: a TOML file of services, the services.d
// directory beside it, or a Procfile, with their env files and ${VAR} expansion, and checks all
// of it (names, dependencies, users, durations, signals) before anything starts.
//
// Every error names the file, the line and the key. The package only reads files: it starts
// nothing and changes no state, so that a bad configuration can never half-start a container.
package config

import (
	"syscall"
	"time"

	"github.com/uno-init/uno/internal/privs"
)

// Config is a validated set of services.
type Config struct {
	// File is the configuration file, or the Procfile.
	File string
	// Grace is the budget of the whole shutdown: ordered stops, then the orphan sweep.
	Grace time.Duration
	// Drain is how long uno stays up, not ready, after the first stop signal, before it stops
	// anything: engines take the container out of their endpoints meanwhile. It counts inside
	// Grace.
	Drain time.Duration
	// LogFormat is the default format of every service's output and of uno's own lines, so
	// that one stream holds one format; LogTimestamps and JSONPassthrough are the defaults of
	// the services' keys of those names.
	LogFormat       LogFormat
	LogTimestamps   bool
	JSONPassthrough bool
	// NoNewPrivileges is [uno] no_new_privileges: the default of every service's.
	NoNewPrivileges bool
	// Services in the order they were defined.
	Services []*Service
	// Warnings are "file:line: key: message" lines about things that are valid but likely
	// mistakes, such as a reference to a variable that is not set.
	Warnings []string
}

// Service is one program uno runs and watches.
type Service struct {
	Name string
	// File and Line are where the service was defined, for messages.
	File string
	Line int

	Type Type
	// Cron is set for a scheduled job (type = "cron").
	Cron    *CronSpec
	Command []string
	// CommandLine is where command was written, for messages about it.
	CommandLine int
	Dir         string
	// Env is the service's whole environment: uno's, then env_file, then env.
	Env []string
	// User is nil when the service runs as uno's own user.
	User *User
	// Privileges are its no_new_privileges, capabilities, rlimits, umask, nice and oom_score_adj
	// (nil: none set, and the service starts as any other); Secrets are read from their files
	// into its environment at each start, never into the configuration (privileges.go).
	Privileges *privs.Settings
	Secrets    []Secret

	DependsOn []Dependency
	Ready     *ReadyCheck
	// Health is the liveness check that runs once the service is ready (health.go).
	Health *HealthCheck

	Restart           RestartPolicy
	RestartDelay      time.Duration // first delay before a restart, doubled on each failure
	RestartDelayMax   time.Duration // cap of that delay
	RestartResetAfter time.Duration // a run this long resets the delay and the failure count
	RestartLimit      int           // failures within RestartWindow after which uno gives up
	RestartWindow     time.Duration

	StopSignal  syscall.Signal
	StopTimeout time.Duration
	// KillMode says who gets the stop signal: the whole process group, or only the service's
	// own process (mixed), the group getting SIGKILL at the timeout either way.
	KillMode KillMode
	// stopTimeoutSet says stop_timeout was given; otherwise it follows the grace (SetGrace).
	stopTimeoutSet bool

	// Essential services stop the container when they end for good.
	Essential bool
	// LogPrefix prefixes each output line with the service's name; false passes bytes through.
	LogPrefix bool
	// Output is how and where the service's output is written (output.go).
	Output Output
	// Main is the program given on uno's command line: it inherits uno's stdin, stdout and
	// stderr, starts after every other service, and its exit ends the container.
	Main bool
}

// Type is how a service's run is judged.
type Type string

const (
	// Simple services run until stopped.
	Simple Type = "simple"
	// Oneshot services run to completion; their dependents wait for them to exit 0.
	Oneshot Type = "oneshot"
)

// Condition is what a dependency must reach before its dependent starts.
type Condition string

const (
	Started   Condition = "started"
	Ready     Condition = "ready"
	Completed Condition = "completed"
)

// Dependency is one entry of depends_on.
type Dependency struct {
	Name      string
	Condition Condition
	Line      int
}

// KillMode says which processes of a service get its stop signal.
type KillMode string

const (
	// KillGroup sends the stop signal to the service's whole process group.
	KillGroup KillMode = "group"
	// KillMixed sends it to the service's own process only, for programs whose workers must
	// not get it directly (a master that stops its workers in order), as systemd's
	// KillMode=mixed; SIGKILL at the timeout still goes to the whole group.
	KillMixed KillMode = "mixed"
)

// RestartPolicy says when a service that ended is started again.
type RestartPolicy string

const (
	RestartNo        RestartPolicy = "no"
	RestartOnFailure RestartPolicy = "on-failure"
	RestartAlways    RestartPolicy = "always"
)

// ReadyKind is how readiness is checked.
type ReadyKind string

const (
	ReadyHTTP   ReadyKind = "http"
	ReadyTCP    ReadyKind = "tcp"
	ReadyExec   ReadyKind = "exec"
	ReadyFile   ReadyKind = "file"
	ReadyNotify ReadyKind = "notify"
)

// ReadyCheck is a service's readiness check.
type ReadyCheck struct {
	Kind ReadyKind
	// Target is the URL (http), address (tcp) or path (file).
	Target string
	// Argv is the command of an exec check.
	Argv []string
	// Line is where the check's kind (http, exec...) was written, for messages about it.
	Line     int
	Interval time.Duration
	Timeout  time.Duration
}

// User is the identity a service runs as.
type User struct {
	Name   string
	Uid    uint32
	Gid    uint32
	Groups []uint32
	Home   string
	// AsUno: uno runs as this user already and is not root, so its programs keep uno's ids as
	// they are. A non-root process cannot set its groups, not even to its own, so a switch would
	// fail every start.
	AsUno bool
}

// Credential is the user as the kernel wants it for a new process: nil, no change, for AsUno.
func (u *User) Credential() *syscall.Credential {
	if u.AsUno {
		return nil
	}
	return &syscall.Credential{Uid: u.Uid, Gid: u.Gid, Groups: u.Groups}
}

// Defaults.
const (
	DefaultGrace             = 8 * time.Second
	DefaultReadyInterval     = 250 * time.Millisecond
	DefaultReadyTimeout      = 60 * time.Second
	DefaultRestartDelay      = 250 * time.Millisecond
	DefaultRestartDelayMax   = 30 * time.Second
	DefaultRestartResetAfter = 30 * time.Second
	DefaultRestartLimit      = 5
	DefaultRestartWindow     = 60 * time.Second
)

// MainName is the name of the service for the program given on uno's command line.
const MainName = "main"

// SetGrace sets the shutdown budget, and with it the stop_timeout of every service that does not
// set its own: --grace and UNO_GRACE override the file's grace after it is loaded.
func (c *Config) SetGrace(grace time.Duration) {
	c.Grace = grace
	for _, s := range c.Services {
		if !s.stopTimeoutSet {
			s.StopTimeout = grace
		}
	}
}

// Key names one of the service's keys in messages: "services.api.command".
func (s *Service) Key(key string) string { return "services." + keyName(s.Name) + "." + key }

// Service looks a service up by name.
func (c *Config) Service(name string) *Service {
	for _, s := range c.Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}
