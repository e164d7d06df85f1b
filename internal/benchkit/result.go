package benchkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
)

// Leaf is one number of the report: a value, its baseline measured in the
// same run, and their ratio; or, when the value could not be measured, the
// reason.
type Leaf struct {
	Path     []string // the figure's key first
	Unit     string
	Value    *float64
	Baseline *float64
	Ratio    *float64 // Value / Baseline
	// Reason says why Value is null: what this build or this machine
	// lacks, or how the measurement failed.
	Reason string
	// Failed says the measurement went wrong, as opposed to not being
	// possible here (no wasmtime tag, no clang, not root).
	Failed bool
}

// Name is the leaf's path joined with dots.
func (l *Leaf) Name() string { return strings.Join(l.Path, ".") }

// RunInfo describes one run of the benchmarks.
type RunInfo struct {
	Version int       `json:"version"` // of the JSON shape: 1
	Quick   bool      `json:"quick"`
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	CPU     string    `json:"cpu"`
	Cores   int       `json:"cores"`
	Go      string    `json:"go"`
	OS      string    `json:"os"`
	Arch    string    `json:"arch"`
	Root    bool      `json:"root"`
	// Engines are the WASM engines this build measured.
	Engines []string `json:"engines"`
	// Failed lists the leaves whose measurement failed.
	Failed []string `json:"failed"`
}

// Report is every figure of one run.
type Report struct {
	Run    RunInfo
	leaves map[string]*Leaf
}

func newReport() *Report {
	r := &Report{leaves: map[string]*Leaf{}}
	for _, f := range Figures {
		for _, p := range f.Paths() {
			r.leaves[strings.Join(p, ".")] = &Leaf{Path: p, Unit: f.UnitOf(p)}
		}
	}
	return r
}

// Leaves lists every leaf in report order.
func (r *Report) Leaves() []*Leaf {
	var out []*Leaf
	for _, f := range Figures {
		for _, p := range f.Paths() {
			out = append(out, r.leaves[strings.Join(p, ".")])
		}
	}
	return out
}

// Leaf returns the leaf named by its dotted path, nil if there is none.
func (r *Report) Leaf(name string) *Leaf { return r.leaves[name] }

// Failed reports the leaves whose measurement failed.
func (r *Report) Failed() []*Leaf {
	var out []*Leaf
	for _, l := range r.Leaves() {
		if l.Failed {
			out = append(out, l)
		}
	}
	return out
}

// recorder fills a report's leaves, from any goroutine.
type recorder struct {
	mu sync.Mutex
	r  *Report
}

func (rec *recorder) leaf(path []string) *Leaf {
	l := rec.r.leaves[strings.Join(path, ".")]
	if l == nil {
		panic(fmt.Sprintf("benchkit: no figure %s", strings.Join(path, ".")))
	}
	return l
}

// set records value and its baseline at path (a leaf).
func (rec *recorder) set(path []string, value, baseline float64) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	l := rec.leaf(path)
	if !finite(value) || !finite(baseline) {
		l.Value, l.Baseline, l.Ratio, l.Reason, l.Failed = nil, nil, nil, fmt.Sprintf("failed: not a finite number (%v against %v)", value, baseline), true
		return
	}
	l.Value, l.Baseline, l.Reason, l.Failed = num(value), num(baseline), "", false
	l.Ratio = nil
	if baseline != 0 {
		l.Ratio = num(value / baseline)
	}
}

// setValue records a value without a baseline at path.
func (rec *recorder) setValue(path []string, value float64) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	l := rec.leaf(path)
	if !finite(value) {
		l.Value, l.Reason, l.Failed = nil, fmt.Sprintf("failed: not a finite number (%v)", value), true
		return
	}
	l.Value, l.Baseline, l.Ratio, l.Reason, l.Failed = num(value), nil, nil, "", false
}

// value returns the value at path, if it was measured.
func (rec *recorder) value(path []string) (float64, bool) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	l := rec.leaf(path)
	if l.Value == nil {
		return 0, false
	}
	return *l.Value, true
}

// null marks every unset leaf under prefix null with the reason err gives:
// an Unavailable error is a reason, any other a failure.
func (rec *recorder) null(prefix []string, err error) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	reason, failed := reasonOf(err)
	p := strings.Join(prefix, ".")
	for name, l := range rec.r.leaves {
		if (name == p || strings.HasPrefix(name, p+".")) && l.Value == nil && l.Reason == "" {
			l.Reason, l.Failed = reason, failed
		}
	}
}

func reasonOf(err error) (string, bool) {
	var u *Unavailable
	if errors.As(err, &u) {
		return u.Reason, false
	}
	return "failed: " + err.Error(), true
}

// Unavailable is the error of a measurement that cannot be made in this
// build or on this machine: its figures are null with Reason.
type Unavailable struct{ Reason string }

func (u *Unavailable) Error() string { return u.Reason }

func unavailable(format string, args ...any) error {
	return &Unavailable{Reason: fmt.Sprintf(format, args...)}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// num rounds v to 4 significant digits: the figures are not more precise.
func num(v float64) *float64 {
	if v != 0 {
		scale := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(v))))
		v = math.Round(v*scale) / scale
	}
	return &v
}

// JSON is the report as one JSON object (see docs/benchmarks.md): "run",
// then every figure's key in report order. A figure with Leaves is an
// object nesting them by path; each leaf is an object {"value", "unit",
// "baseline", "ratio"} whose value is a number or null, with "reason"
// saying why when it is null.
func (r *Report) JSON() ([]byte, error) {
	var b bytes.Buffer
	run, err := json.Marshal(r.Run)
	if err != nil {
		return nil, err
	}
	b.WriteString("{\n  \"run\": ")
	b.Write(run)
	for _, f := range Figures {
		b.WriteString(",\n  ")
		writeKey(&b, f.Key)
		if f.Leaves == nil {
			writeLeaf(&b, r.leaves[f.Key])
			continue
		}
		writeTree(&b, r, []string{f.Key}, f.Leaves)
	}
	b.WriteString("\n}\n")
	return b.Bytes(), nil
}

// writeTree writes the object holding the leaves (sub-paths of prefix).
func writeTree(b *bytes.Buffer, r *Report, prefix []string, leaves [][]string) {
	b.WriteString("{")
	var order []string
	kids := map[string][][]string{}
	for _, l := range leaves {
		if _, ok := kids[l[0]]; !ok {
			order = append(order, l[0])
		}
		kids[l[0]] = append(kids[l[0]], l[1:])
	}
	for i, k := range order {
		if i > 0 {
			b.WriteString(", ")
		}
		writeKey(b, k)
		path := append(append([]string(nil), prefix...), k)
		if len(kids[k]) == 1 && len(kids[k][0]) == 0 {
			writeLeaf(b, r.leaves[strings.Join(path, ".")])
		} else {
			writeTree(b, r, path, kids[k])
		}
	}
	b.WriteString("}")
}

func writeKey(b *bytes.Buffer, k string) {
	q, _ := json.Marshal(k)
	b.Write(q)
	b.WriteString(": ")
}

type leafJSON struct {
	Value    *float64 `json:"value"`
	Unit     string   `json:"unit"`
	Baseline *float64 `json:"baseline"`
	Ratio    *float64 `json:"ratio"`
	Reason   string   `json:"reason,omitempty"`
}

func writeLeaf(b *bytes.Buffer, l *Leaf) {
	j, _ := json.Marshal(leafJSON{Value: l.Value, Unit: l.Unit, Baseline: l.Baseline, Ratio: l.Ratio, Reason: l.Reason})
	b.Write(j)
}
