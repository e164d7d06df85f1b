package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/nichost/nichost/internal/testenv"
)

// --engine picks the engine of the host a command makes, over
// $NICHOST_ENGINE; an engine the build lacks or nobody knows is an error
// saying so, not a run on another engine.
func TestEngineFlag(t *testing.T) {
	if _, err := run(t, "demo", "--once", "--engine", "wasmer"); err == nil || !strings.Contains(err.Error(), `engine "wasmer": unknown; the engines are wazero, wasmtime`) {
		t.Fatalf("demo --engine wasmer = %v, want the known engines listed", err)
	}
	withWasmtime := slices.Contains(testenv.BuildFlags(), "wasmtime")
	if !withWasmtime {
		_, err := run(t, "demo", "--once", "--engine", "wasmtime")
		if err == nil || !strings.Contains(err.Error(), "this nichost was built without it; build with -tags wasmtime (needs cgo and gcc)") {
			t.Fatalf("demo --engine wasmtime without the tag = %v, want how to build it", err)
		}
	}
	t.Setenv("NICHOST_ENGINE", "wasmtime") // the flag wins
	out, err := run(t, "demo", "--json", "--engine", "wazero")
	if err != nil {
		t.Fatalf("demo --engine wazero: %v\n%s", err, out)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var r nicResult
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("bad JSON %q: %v", out, err)
		}
		if r.Engine != "wazero" || r.Error != "" {
			t.Fatalf("NIC %s: engine %q, error %q; want wazero and no error", r.Name, r.Engine, r.Error)
		}
	}
}
