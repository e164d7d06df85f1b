package benchkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The figures' descriptions are written once, here in the code: the
// command prints them, and docs/benchmarks.md carries the table Markdown
// makes of them.
func TestDocs_ListEveryFigure(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "benchmarks.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), Markdown()) {
		t.Fatalf("docs/benchmarks.md lacks the table of figures as the code describes them; paste this in:\n\n%s", Markdown())
	}
}

func TestFigures_Catalogue(t *testing.T) {
	keys := map[string]bool{}
	groups := map[string]int{}
	for _, f := range Figures {
		if keys[f.Key] {
			t.Errorf("figure %s listed twice", f.Key)
		}
		keys[f.Key] = true
		groups[f.Group]++
		if f.Desc == "" || strings.Contains(f.Desc, "\n") || strings.Contains(f.Desc, "|") {
			t.Errorf("%s: a description is one line without a '|': %q", f.Key, f.Desc)
		}
	}
	for _, g := range Groups {
		if groups[g.Key] == 0 {
			t.Errorf("group %s has no figure", g.Key)
		}
		delete(groups, g.Key)
	}
	if len(groups) != 0 {
		t.Errorf("figures in groups that are not listed: %v", groups)
	}
	var measured []string
	for _, m := range measurements {
		measured = append(measured, m.figures...)
	}
	slices.Sort(measured)
	all := Keys()
	slices.Sort(all)
	if !slices.Equal(measured, all) {
		t.Errorf("the measurements fill %v; the figures are %v", measured, all)
	}
}

// sample is a report with a number, a number without a baseline, an
// unavailable figure and a failed one.
func sample() *Report {
	r := newReport()
	rec := &recorder{r: r}
	rec.set([]string{"hostcall_ns", "wazero"}, 95.123456, 3.2)
	rec.setValue([]string{"reload_frames_lost"}, 0)
	rec.null([]string{"hostcall_ns", "wasmtime"}, unavailable("no wasmtime"))
	rec.null([]string{"c_vs_go_driver"}, errors.New("broken"))
	for _, l := range r.Leaves() {
		if l.Value == nil && l.Reason == "" {
			l.Reason = "not measured"
		}
	}
	return r
}

func TestReport_JSON(t *testing.T) {
	b, err := sample().JSON()
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	for _, k := range Keys() {
		if _, ok := obj[k]; !ok {
			t.Errorf("no key %s", k)
		}
	}
	if len(obj) != len(Figures)+1 {
		t.Errorf("%d keys, want the %d figures and run", len(obj), len(Figures))
	}
	leaf := obj["hostcall_ns"].(map[string]any)["wazero"].(map[string]any)
	if leaf["value"] != 95.12 || leaf["baseline"] != 3.2 || leaf["ratio"] != 29.73 || leaf["unit"] != "ns" {
		t.Errorf("hostcall_ns.wazero = %v", leaf)
	}
	null := obj["hostcall_ns"].(map[string]any)["wasmtime"].(map[string]any)
	if v, ok := null["value"]; !ok || v != nil || null["reason"] != "no wasmtime" {
		t.Errorf("hostcall_ns.wasmtime = %v, want an explicit null value and the reason", null)
	}
	if l := obj["c_vs_go_driver"].(map[string]any)["rx"].(map[string]any); l["reason"] != "failed: broken" {
		t.Errorf("c_vs_go_driver.rx = %v", l)
	}
	if l := obj["reload_frames_lost"].(map[string]any); l["value"] != 0.0 || l["baseline"] != nil {
		t.Errorf("reload_frames_lost = %v", l)
	}
	// The figures follow run in report order.
	var order []string
	for _, m := range regexp.MustCompile(`(?m)^  "([a-z0-9_]+)":`).FindAllStringSubmatch(string(b), -1) {
		order = append(order, m[1])
	}
	if want := append([]string{"run"}, Keys()...); !slices.Equal(order, want) {
		t.Errorf("keys in order %v, want %v", order, want)
	}
}

func TestReport_TableAndHTML(t *testing.T) {
	r := sample()
	var tab bytes.Buffer
	if err := r.WriteTable(&tab); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hostcall_ns.wazero", "95.1", "29.7x", "n/a: no wasmtime", "n/a: failed: broken", Figures[0].Desc} {
		if !strings.Contains(tab.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, tab.String())
		}
	}
	var h bytes.Buffer
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	CheckHTML(t, h.String())
}

// CheckHTML fails t unless page is self-contained (no http(s) in any src
// or href, no script) with one <svg per group of figures.
func CheckHTML(t testing.TB, page string) {
	t.Helper()
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*https?:`).FindString(page); m != "" {
		t.Errorf("the page links out: %s", m)
	}
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("the page has a script")
	}
	if n := strings.Count(page, "<svg"); n != len(Groups) {
		t.Errorf("%d <svg> charts, want one per group (%d)", n, len(Groups))
	}
}
