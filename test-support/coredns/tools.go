//go:build tools

// Package tools pins CoreDNS, which this module builds, so `go mod tidy` keeps it.
package tools

import (
	_ "github.com/coredns/coredns/core/plugin" // every plugin the coredns command links
	_ "github.com/coredns/coredns/coremain"
)
