package benchkit

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Figure is one figure of the report: a top-level key of the JSON object,
// a row (or several) of the table. Its description is the one line the
// command prints and docs/benchmarks.md lists (a test checks that they
// agree).
type Figure struct {
	Key   string
	Group string // the Group's Key
	Unit  string // of the value and of the baseline
	// Units overrides Unit for the leaves whose last path element is the
	// key ("connect": "conn/s").
	Units map[string]string
	// Baseline says what the baseline is ("" when the figure has none).
	Baseline string
	Desc     string
	// Leaves are the sub-paths of the figure's leaves, outermost first
	// (nil: the figure is itself one leaf).
	Leaves [][]string
}

// Group is a set of figures drawn as one chart.
type Group struct {
	Key, Title string
}

// Groups are the report's groups, in order.
var Groups = []Group{
	{"sandbox", "Crossing the sandbox"},
	{"wiznet", "W5500 data path"},
	{"lifecycle", "Building and starting a plugin"},
	{"reload", "Hot reload"},
	{"tcp", "TCP through a plugin"},
	{"drivers", "Driver languages"},
}

// AllEngines are the engines the report has figures for, whether or not
// this build has them.
var AllEngines = []string{"wazero", "wasmtime"}

var (
	dirs        = [][]string{{"rx"}, {"tx"}}
	perEngine   = cross([]string{"wazero", "wasmtime"})
	engineDirs  = cross([]string{"wazero", "wasmtime"}, []string{"rx", "tx"})
	tcpPaths    = cross([]string{"sim", "tap"}, []string{"send", "receive", "connect"})
	tcpBulk     = cross([]string{"sim", "tap"}, []string{"send", "receive"})
	buildLangs  = [][]string{{"go"}, {"c"}}
	engineCalls = [][]string{{"hostcall"}, {"export_call"}}
)

// Figures are every figure of the report, in the order printed.
var Figures = []Figure{
	{Key: "hostcall_ns", Group: "sandbox", Unit: "ns", Baseline: "native", Leaves: perEngine,
		Desc: "one host call (nic.now) from the guest, in a loop inside one export of the test driver; baseline: the same driver compiled into the host"},
	{Key: "export_call_ns", Group: "sandbox", Unit: "ns", Baseline: "native", Leaves: perEngine,
		Desc: "one call of the emptiest export (nic_abi_version) under the plugin's call deadline, as the host makes every call; baseline: the native driver"},
	{Key: "wasmtime_vs_wazero", Group: "sandbox", Unit: "ns", Baseline: "wazero", Leaves: engineCalls,
		Desc: "hostcall_ns and export_call_ns on wasmtime, against wazero in the same run"},
	{Key: "control_call_us", Group: "sandbox", Unit: "us", Baseline: "native", Leaves: perEngine,
		Desc: "isconnected() end to end on the W5500 driver: caller to plugin goroutine, CBOR, the driver's PHYCFGR read over SPI, and back; baseline: the native driver"},

	{Key: "wiznet_wasm_vs_native", Group: "wiznet", Unit: "frames/s", Baseline: "native", Leaves: engineDirs,
		Desc: "1000-byte frames per second through the W5500 driver on its unpaced simulator (cpu_share at its maximum); baseline: the same driver compiled into the host (host.LoadNative)"},
	{Key: "spi_transactions_per_frame", Group: "wiznet", Unit: "transactions", Leaves: dirs,
		Desc: "SPI transactions (chip-select frames) per 1000-byte frame, counted by the simulated bus, W5500 driver as WASM"},
	{Key: "bus_bytes_per_frame", Group: "wiznet", Unit: "bytes", Baseline: "frame size", Leaves: dirs,
		Desc: "bytes clocked on the SPI bus per 1000-byte frame, W5500 driver as WASM; baseline: the frame's own bytes"},
	{Key: "host_calls_per_frame", Group: "wiznet", Unit: "calls", Leaves: dirs,
		Desc: "host calls of every kind per 1000-byte frame, W5500 driver, counted on the native build (the WASM build runs the same code and makes the same calls)"},

	{Key: "plugin_build_ms", Group: "lifecycle", Unit: "ms", Baseline: "cached", Leaves: buildLangs,
		Desc: "building the LAN driver (Go; C with clang) into an empty nichost plugin cache, Go's own build cache warm (a warm-up build first); baseline: the same build again, from the cache"},
	{Key: "plugin_cold_start_ms", Group: "lifecycle", Unit: "ms", Baseline: "native",
		Desc: "host.Load of the built Go LAN driver (.wasm, no build) with an empty compilation cache: compile, instantiate, handshake, nic_start; baseline: host.LoadNative of the same driver"},
	{Key: "plugin_cached_start_ms", Group: "lifecycle", Unit: "ms", Baseline: "cold start",
		Desc: "host.Load of the unchanged Go LAN driver source again in the same host, every cache warm (build check by the stamp, no go toolchain; the compiled module the host kept; instantiate, handshake); baseline: plugin_cold_start_ms"},
	{Key: "plugin_instance_kib", Group: "lifecycle", Unit: "KiB", Baseline: "native",
		Desc: "Go heap per loaded Go LAN driver plugin (runtime.ReadMemStats after GC around loading several): guest memory, host state, its share of the compiled module; baseline: the native driver"},

	{Key: "reload_pause_ms", Group: "reload", Unit: "ms", Baseline: "steady",
		Desc: "longest time with no frame on the wire around a warm reload of the Go LAN driver under a paced TCP stream both ways (its simulator, simnet's router); baseline: the longest gap of the same stream before the reloads"},
	{Key: "reload_frames_lost", Group: "reload", Unit: "frames",
		Desc: "frames one end sent that the other never got, per warm reload, in the same run as reload_pause_ms"},

	{Key: "tcp_plugin_vs_direct", Group: "tcp", Unit: "Mb/s", Units: map[string]string{"connect": "conn/s"}, Baseline: "direct", Leaves: tcpPaths,
		Desc: "TCP bulk send and receive and connection setup through the core and the Go LAN driver as WASM; baseline: the core alone on the same link. sim: to simnet's router on a simulated segment; tap: to the Linux kernel behind a TAP in a network namespace (root)"},
	{Key: "tcp_mbps", Group: "tcp", Unit: "Mb/s", Baseline: "kernel", Leaves: tcpBulk,
		Desc: "TCP bulk throughput through nichost (core and the Go LAN driver as WASM); baseline on tap: two Linux kernel stacks over a veth pair (none on sim)"},

	{Key: "c_vs_go_driver", Group: "drivers", Unit: "frames/s", Baseline: "Go driver", Leaves: dirs,
		Desc: "1000-byte frames per second through the LAN driver written in C (clang, wasm32-wasi) on a simulated LAN8720A; baseline: the LAN driver written in Go, both as WASM"},
}

// cross is every path of one element of each list, in order.
func cross(lists ...[]string) [][]string {
	out := [][]string{nil}
	for _, l := range lists {
		var next [][]string
		for _, p := range out {
			for _, e := range l {
				next = append(next, append(append([]string(nil), p...), e))
			}
		}
		out = next
	}
	return out
}

// figure returns the figure of key.
func figure(key string) (Figure, bool) {
	for _, f := range Figures {
		if f.Key == key {
			return f, true
		}
	}
	return Figure{}, false
}

// UnitOf is the unit of the leaf at path.
func (f Figure) UnitOf(path []string) string {
	if u, ok := f.Units[path[len(path)-1]]; ok {
		return u
	}
	return f.Unit
}

// Paths are the figure's leaf paths, the key first.
func (f Figure) Paths() [][]string {
	if f.Leaves == nil {
		return [][]string{{f.Key}}
	}
	var out [][]string
	for _, l := range f.Leaves {
		out = append(out, append([]string{f.Key}, l...))
	}
	return out
}

// Markdown is the table of figures docs/benchmarks.md carries: key, unit,
// baseline and description of each.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| figure | leaves | unit | baseline | what it measures |\n| --- | --- | --- | --- | --- |\n")
	for _, f := range Figures {
		var leaves []string
		for _, l := range f.Leaves {
			leaves = append(leaves, strings.Join(l, "."))
		}
		base := f.Baseline
		if base == "" {
			base = "none"
		}
		unit := f.Unit
		for _, k := range slices.Sorted(maps.Keys(f.Units)) {
			unit += " (" + k + ": " + f.Units[k] + ")"
		}
		if leaves == nil {
			leaves = []string{"-"}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", f.Key, strings.Join(leaves, ", "), unit, base, f.Desc)
	}
	return b.String()
}
