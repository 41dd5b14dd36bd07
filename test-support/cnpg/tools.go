//go:build tools

// Test infrastructure only: builds CloudNativePG's operator (its manager binary, which is also the instance manager
// it injects into every PostgreSQL pod) for the cloudnative-pg engine's tests. Never shipped.
package tools

import _ "github.com/cloudnative-pg/cloudnative-pg/cmd/manager"
