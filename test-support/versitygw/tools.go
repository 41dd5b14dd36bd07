//go:build tools

// Package tools pins versitygw, which this module builds, so `go mod tidy` keeps it.
package tools

import _ "github.com/versity/versitygw/cmd/versitygw"
