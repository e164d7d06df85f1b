package guest_test

import (
	"errors"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

func TestParseTrace(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want guest.Trace
		err  error
	}{
		{int64(0), 0, nil},
		{int64(6), guest.TraceTx | guest.TraceRx, nil},
		{int64(15), guest.TraceEvents | guest.TraceTx | guest.TraceRx | guest.TraceFull, nil},
		{int64(-1), 0, abi.ErrValue},
		{int64(16), 0, abi.ErrValue},
		{true, 0, abi.ErrType},
		{"x.pcapng", 0, abi.ErrType},
	} {
		got, err := guest.ParseTrace(tc.in)
		if got != tc.want || (tc.err == nil) != (err == nil) || (tc.err != nil && !errors.Is(err, tc.err)) {
			t.Errorf("ParseTrace(%v) = %v, %v; want %v, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	if !(guest.TraceTx | guest.TraceRx).Has(guest.TraceRx) || guest.TraceTx.Has(guest.TraceTx|guest.TraceFull) {
		t.Fatal("Has")
	}
}
