package cli

import (
	"fmt"
	"strings"
)

// option is one command-line option, short and/or long. set receives the value of an option
// that takes one, or "" for a switch.
type option struct {
	short    byte
	long     string
	hasValue bool
	set      func(value string) error
}

// usageError is a mistake on the command line or in an environment variable: uno prints it with
// a short usage and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// parseOptions reads options the way getopt_long does with a leading '+' in its option string:
// up to "--" or the first argument that is not an option, so the program's own flags are never
// taken for uno's. Short switches combine ("-vvg"), a short option's value may be attached
// ("-e143") and a long option's may follow '=' ("--grace=10s"). It returns the arguments left.
func parseOptions(opts []option, args []string) ([]string, error) {
	for len(args) > 0 {
		arg := args[0]
		switch {
		case arg == "--":
			return args[1:], nil
		case strings.HasPrefix(arg, "--"):
			name, value, hasEq := strings.Cut(arg[2:], "=")
			opt := findLong(opts, name)
			if opt == nil {
				return nil, usagef("unknown option --%s", name)
			}
			args = args[1:]
			switch {
			case opt.hasValue && !hasEq:
				if len(args) == 0 {
					return nil, usagef("option --%s needs a value", name)
				}
				value, args = args[0], args[1:]
			case !opt.hasValue && hasEq:
				return nil, usagef("option --%s takes no value", name)
			}
			if err := opt.set(value); err != nil {
				return nil, usagef("--%s: %v", name, err)
			}
		case len(arg) > 1 && arg[0] == '-':
			args = args[1:]
			for i := 1; i < len(arg); i++ {
				opt := findShort(opts, arg[i])
				if opt == nil {
					return nil, usagef("unknown option -%c", arg[i])
				}
				if !opt.hasValue {
					if err := opt.set(""); err != nil {
						return nil, usagef("-%c: %v", arg[i], err)
					}
					continue
				}
				value := arg[i+1:]
				if value == "" {
					if len(args) == 0 {
						return nil, usagef("option -%c needs a value", arg[i])
					}
					value, args = args[0], args[1:]
				}
				if err := opt.set(value); err != nil {
					return nil, usagef("-%c: %v", arg[i], err)
				}
				break
			}
		default:
			return args, nil
		}
	}
	return args, nil
}

func findLong(opts []option, name string) *option {
	for i := range opts {
		if opts[i].long != "" && opts[i].long == name {
			return &opts[i]
		}
	}
	return nil
}

func findShort(opts []option, c byte) *option {
	for i := range opts {
		if opts[i].short != 0 && opts[i].short == c {
			return &opts[i]
		}
	}
	return nil
}
