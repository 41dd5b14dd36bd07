//go:build tools

// Benchmark only: builds Flux's source-controller, the peer scripts/bench.sh measures beside this controller. Never shipped,
// never started by the test suite.
package tools

import _ "github.com/fluxcd/source-controller"
