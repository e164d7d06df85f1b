package benchkit

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the report as a table: figure, value, unit, baseline,
// ratio and the figure's one-line description (on its first row; a leaf
// that could not be measured shows why instead).
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tvalue\tunit\tbaseline\tratio\tdescription")
	for _, f := range Figures {
		for i, p := range f.Paths() {
			l := r.leaves[strings.Join(p, ".")]
			desc := ""
			if i == 0 {
				desc = f.Desc
				if f.Baseline == "" {
					desc += " (no baseline)"
				}
			}
			if l.Value == nil {
				if i == 0 {
					desc = "n/a: " + l.Reason + " | " + desc
				} else {
					desc = "n/a: " + l.Reason
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.Name(), Format(l.Value), l.Unit, Format(l.Baseline), formatRatio(l.Ratio), desc)
		}
	}
	return tw.Flush()
}

// Format prints a figure with about 3 significant digits ("-" for none).
func Format(v *float64) string {
	if v == nil {
		return "-"
	}
	a := math.Abs(*v)
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", *v)
	case a >= 10:
		return fmt.Sprintf("%.1f", *v)
	case a >= 1:
		return fmt.Sprintf("%.2f", *v)
	}
	return fmt.Sprintf("%.3g", *v)
}

func formatRatio(v *float64) string {
	if v == nil {
		return "-"
	}
	return Format(v) + "x"
}
