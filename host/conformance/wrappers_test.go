package conformance_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/conformance"
	"github.com/nichost/nichost/plugins/lan/landev"
)

// failTimeout bounds the waits of runs whose checks are meant to fail by
// timing out; it is no assertion about speed: a check that should pass and
// times out makes no test here fail.
const failTimeout = 5 * time.Second

// runWrapper runs the LAN suite on the test driver in testdata/dir and
// returns each check's error (nil: passed) by name.
func runWrapper(t *testing.T, dir string) map[string]error {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs a LAN test plugin")
	}
	t.Parallel()
	rs, err := conformance.Run(context.Background(), conformance.Config{
		Source: "testdata/" + dir, Class: abi.ClassLAN, Device: landev.Conformance, Timeout: failTimeout,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]error{}
	for _, r := range rs {
		if r.Skipped != "" {
			t.Fatalf("check %q skipped: %s", r.Name, r.Skipped)
		}
		out[r.Name] = r.Err
		if r.Err != nil {
			t.Logf("FAIL %s (ABI.md %s): %v", r.Name, r.Section, r.Err)
		}
	}
	return out
}

// wantFail fails t unless check name failed with an error containing each
// of parts.
func wantFail(t *testing.T, errs map[string]error, name string, parts ...string) {
	t.Helper()
	err, ok := errs[name]
	switch {
	case !ok:
		t.Errorf("no check %q", name)
	case err == nil:
		t.Errorf("check %q passed; want it to fail", name)
	default:
		for _, p := range parts {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("check %q: %v; want it to say %q", name, err, p)
			}
		}
	}
}

// onlyThese fails t if a check other than those named failed, but for
// timing out: failTimeout is short, and a slow machine may run one out.
func onlyThese(t *testing.T, errs map[string]error, failing ...string) {
	t.Helper()
	for name, err := range errs {
		if err != nil && !slices.Contains(failing, name) && !strings.Contains(err.Error(), "timed out waiting for") {
			t.Errorf("check %q failed too: %v", name, err)
		}
	}
}

// The suite fails a LAN driver for each rule of ABI.md section 8 that an
// outside author's driver broke while passing the suite of the time:
// testdata/sloppy is nichost's driver without regs(), ignoring status()'s
// parameter and low_power, taking any int as trace flags, and answering
// busy while the link is down.
func TestRun_SloppyDriver(t *testing.T) {
	errs := runWrapper(t, "sloppy")
	wantFail(t, errs, "status('no_such_param') is a ValueError naming it",
		// The sloppy driver answers status() itself: 0 or 1 as the link is.
		"status('no_such_param') = ", ", <nil>; want a ValueError naming no_such_param")
	wantFail(t, errs, "trace flags: 1, 2, 4 and 8, an int", "config(trace=16) = <nil>; want a ValueError")
	wantFail(t, errs, "regs() returns the registers", "NotImplementedError: LAN has no method regs()")
	wantFail(t, errs, "config(low_power=True) takes the link down, False brings it back",
		"timed out waiting for status() 0, isconnected() False and the link reported down after config(low_power=True)")
	// Deterministic: the check looks once the host has offered the frames.
	wantFail(t, errs, "cable out: frames offered are refused, not kept",
		"the host offered 8 frames with the link down: the driver refused 0", "took 0 as sent, and answered busy for 8")
	onlyThese(t, errs, "status('no_such_param') is a ValueError naming it", "trace flags: 1, 2, 4 and 8, an int",
		"regs() returns the registers", "config(low_power=True) takes the link down, False brings it back",
		"cable out: frames offered are refused, not kept")
}

// The burst check makes the host offer batches of several frames, so a
// driver that takes every frame of a batch but sends all but the second
// (testdata/dropsecond) fails it, however fast the machine.
func TestRun_DropSecondOfBatch(t *testing.T) {
	errs := runWrapper(t, "dropsecond")
	wantFail(t, errs, "a burst of frames arrives whole",
		"queued while the plugin was held in a bus access, so offered in batches", "missing or damaged: datagram ")
	// The frames the core sends during a reload wait and then go as a
	// batch, whose second frame this driver drops too.
	onlyThese(t, errs, "a burst of frames arrives whole", "reload: a warm handover keeps the link and every frame, a cold one brings the link back")
}
