// Example module for vouch tests.
module "example.com/app"

go 1.22.0

toolchain go1.22.4

godebug default=go1.21

require github.com/pkg/errors v0.9.1

require (
	golang.org/x/text v0.14.0 // indirect
	github.com/google/uuid v1.6.0
	example.com/old v1.0.0
	example.com/local v0.0.0-00010101000000-000000000000
	github.com/excluded/mod v1.2.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect; used by tests
)

exclude github.com/excluded/mod v1.2.0

replace (
	example.com/old v1.0.0 => example.com/new v1.1.0
	example.com/local => ./local
)

retract [v1.0.0, v1.0.5] // published by mistake

tool golang.org/x/tools/cmd/stringer
