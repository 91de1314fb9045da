package logmux

import "github.com/uno-init/uno/internal/ulog"

func appendTimeForTest(ms int64) []byte { return ulog.AppendTime(nil, ms) }
