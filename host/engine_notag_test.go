//go:build !wasmtime

package host_test

import (
	"testing"

	"github.com/nichost/nichost/host"
)

// A nichost built without the wasmtime tag refuses wasmtime, asked for in
// the options or in the environment, saying how to build it: it never
// runs wazero instead.
func TestEngine_WasmtimeNotBuilt(t *testing.T) {
	const want = `engine "wasmtime": this nichost was built without it; build with -tags wasmtime (needs cgo and gcc)`
	if _, err := host.New(host.Options{Engine: "wasmtime", CacheDir: t.TempDir(), Logger: quiet()}); err == nil || !contains(err.Error(), want) {
		t.Fatalf("New(Engine: wasmtime) = %v, want %q", err, want)
	}
	t.Setenv(host.EngineEnv, "wasmtime")
	_, err := host.New(host.Options{CacheDir: t.TempDir(), Logger: quiet()})
	if err == nil || !contains(err.Error(), "$NICHOST_ENGINE: "+want) {
		t.Fatalf("New with $NICHOST_ENGINE=wasmtime = %v, want an error naming the variable", err)
	}
}
