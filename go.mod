module github.com/uno-init/uno

go 1.26.8

require (
	github.com/pelletier/go-toml/v2 v2.4.3
	golang.org/x/sys v0.49.0
)

require github.com/robfig/cron/v3 v3.0.1
