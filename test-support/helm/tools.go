//go:build tools

// Package tools pins Helm, which this module builds for the chart's tests, so `go mod tidy` keeps it.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
