// Package conformancetest runs the AbstractNIC conformance suite
// (host/conformance) from a driver's own `go test`, in this module or any
// other: one subtest per check. It is apart from the suite so that
// programs running the suite (`nichost test`) do not link package testing.
package conformancetest

import (
	"testing"

	"github.com/nichost/nichost/host/conformance"
)

// Test runs the suite for cfg as subtests of t, one per check; a check
// that could not run (the plugin did not load) is skipped.
func Test(t *testing.T, cfg conformance.Config) {
	t.Helper()
	results, err := conformance.Run(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		t.Run(r.Name, func(t *testing.T) {
			switch {
			case r.Skipped != "":
				t.Skip(r.Skipped)
			case r.Err != nil:
				t.Fatalf("%v (the rule: abi/ABI.md, %s)", r.Err, r.Section)
			}
		})
	}
}
