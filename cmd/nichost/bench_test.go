package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nichost/nichost/internal/benchkit"
	"github.com/nichost/nichost/internal/netns"
	"github.com/nichost/nichost/internal/testenv"
)

// `nichost bench --quick --json --html FILE`: every figure's key, each
// leaf a number or an explicit null with the reason, numbers for what this
// machine can measure, and a self-contained HTML page with one chart per
// group. No figure's value is checked: they are this machine's.
func TestBench_QuickJSONAndHTML(t *testing.T) {
	page := filepath.Join(t.TempDir(), "bench.html")
	out, err := run(t, "bench", "--quick", "--json", "--html", page)
	if err != nil {
		t.Fatalf("bench --quick --json: %v\n%s", err, out)
	}
	// Progress lines (stderr) come first in out: the object starts at the
	// first line that is "{".
	i := strings.Index(out, "\n{\n")
	if !strings.HasPrefix(out, "{\n") && i < 0 {
		t.Fatalf("no JSON object in the output:\n%s", out)
	}
	if !strings.HasPrefix(out, "{\n") {
		out = out[i+1:]
	}
	j := strings.Index(out, "\n}\n")
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out[:j+2]), &obj); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	var keys []string
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := append([]string{"run"}, benchkit.Keys()...)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	var info benchkit.RunInfo
	if err := json.Unmarshal(obj["run"], &info); err != nil || !info.Quick || len(info.Failed) != 0 {
		t.Fatalf("run = %s (%v)", obj["run"], err)
	}

	// What this machine and build can measure must be a number.
	_, clangErr := exec.LookPath("clang")
	measurable := func(path string) bool {
		switch {
		case strings.Contains(path, "wasmtime"):
			return slices.Contains(info.Engines, "wasmtime")
		case strings.HasPrefix(path, "c_vs_go_driver"), path == "plugin_build_ms.c":
			return clangErr == nil || testenv.Required()
		case strings.Contains(path, ".tap."):
			return netns.Available() == nil || testenv.Required()
		}
		return true
	}
	for _, f := range benchkit.Figures {
		var tree any
		if err := json.Unmarshal(obj[f.Key], &tree); err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Paths() {
			v := tree
			for _, k := range p[1:] {
				m, ok := v.(map[string]any)
				if !ok {
					t.Fatalf("%s: no object at %s in %s", f.Key, k, obj[f.Key])
				}
				v = m[k]
			}
			name := strings.Join(p, ".")
			leaf, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%s: not a leaf object: %v", name, v)
			}
			value, present := leaf["value"]
			if !present {
				t.Errorf("%s: no value key: %v", name, leaf)
				continue
			}
			switch value := value.(type) {
			case float64:
				if leaf["unit"] == "" {
					t.Errorf("%s: a number without a unit", name)
				}
			case nil:
				reason, _ := leaf["reason"].(string)
				if reason == "" {
					t.Errorf("%s: null without a reason", name)
				}
				if measurable(name) {
					t.Errorf("%s: null (%s), but this machine can measure it", name, reason)
				}
			default:
				t.Errorf("%s: value %v is neither a number nor null", name, value)
			}
		}
	}

	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*https?:`).FindString(html); m != "" {
		t.Errorf("the HTML report links out: %s", m)
	}
	if n := strings.Count(html, "<svg"); n != len(benchkit.Groups) {
		t.Errorf("%d <svg> charts, want one per group of figures (%d)", n, len(benchkit.Groups))
	}
}
