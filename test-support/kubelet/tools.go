//go:build tools

// Package tools pins the kubelet this module builds, so `go mod tidy` keeps it.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kubelet/app"
)
