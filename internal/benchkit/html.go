package benchkit

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// WriteHTML writes the report as one self-contained HTML page: per group
// of figures an inline SVG bar chart (each leaf's value against its
// baseline, both drawn to the larger of the two, since leaves of a group
// have different units) and a table of the numbers with the figures'
// descriptions. It has no scripts and links nothing: no src, no href.
func (r *Report) WriteHTML(w io.Writer) error {
	var b strings.Builder
	e := html.EscapeString
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>nichost bench</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;margin:.5em 0 2em}td,th{border-bottom:1px solid #ddd;padding:.2em .6em;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.na{color:#a33}
svg text{font:12px system-ui,sans-serif}
</style></head><body>
<h1>nichost bench</h1>
`)
	run := r.Run
	fmt.Fprintf(&b, "<p>%s; %d cores; %s %s/%s; engines: %s; %s run started %s, %.0f s.</p>\n",
		e(run.CPU), run.Cores, e(run.Go), e(run.OS), e(run.Arch), e(strings.Join(run.Engines, ", ")),
		map[bool]string{true: "quick", false: "full"}[run.Quick], e(run.Started.Format("2006-01-02 15:04:05 MST")), run.Seconds)
	b.WriteString("<p>Blue: the figure; grey: its baseline, measured in the same run. Each pair of bars is drawn to its own scale.</p>\n")
	for _, g := range Groups {
		var figs []Figure
		for _, f := range Figures {
			if f.Group == g.Key {
				figs = append(figs, f)
			}
		}
		fmt.Fprintf(&b, "<section><h2>%s</h2>\n", e(g.Title))
		r.chart(&b, figs)
		b.WriteString("<table><tr><th>figure</th><th>value</th><th>unit</th><th>baseline</th><th>ratio</th><th>description</th></tr>\n")
		for _, f := range figs {
			for i, p := range f.Paths() {
				l := r.leaves[strings.Join(p, ".")]
				desc := ""
				if i == 0 {
					desc = e(f.Desc)
				}
				if l.Value == nil {
					desc = `<span class="na">n/a: ` + e(l.Reason) + "</span>" + map[bool]string{true: "<br>" + desc, false: ""}[i == 0]
				}
				fmt.Fprintf(&b, "<tr><td>%s</td><td class=n>%s</td><td>%s</td><td class=n>%s</td><td class=n>%s</td><td>%s</td></tr>\n",
					e(l.Name()), Format(l.Value), e(l.Unit), Format(l.Baseline), formatRatio(l.Ratio), desc)
			}
		}
		b.WriteString("</table></section>\n")
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// chart draws the leaves of figs as one SVG: per leaf, its value and its
// baseline as two horizontal bars scaled to the larger.
func (r *Report) chart(b *strings.Builder, figs []Figure) {
	const (
		label = 300 // width of the label column
		bars  = 380 // longest bar
		row   = 34
	)
	var leaves []*Leaf
	for _, f := range figs {
		for _, p := range f.Paths() {
			leaves = append(leaves, r.leaves[strings.Join(p, ".")])
		}
	}
	e := html.EscapeString
	fmt.Fprintf(b, `<svg width="%d" height="%d" role="img">`+"\n", label+bars+150, len(leaves)*row+10)
	for i, l := range leaves {
		y := 5 + i*row
		fmt.Fprintf(b, `<text x="0" y="%d">%s</text>`+"\n", y+17, e(l.Name()))
		if l.Value == nil {
			reason := l.Reason
			if len(reason) > 70 {
				reason = reason[:67] + "..."
			}
			fmt.Fprintf(b, `<text x="%d" y="%d" fill="#a33">n/a: %s</text>`+"\n", label, y+17, e(reason))
			continue
		}
		scale := *l.Value
		if l.Baseline != nil && *l.Baseline > scale {
			scale = *l.Baseline
		}
		width := func(v float64) int {
			if scale <= 0 || v <= 0 {
				return 1
			}
			return max(1, int(v/scale*bars))
		}
		wv := width(*l.Value)
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="12" fill="#3b6fb6"/><text x="%d" y="%d">%s %s</text>`+"\n",
			label, y+2, wv, label+wv+4, y+12, Format(l.Value), e(l.Unit))
		if l.Baseline != nil {
			wb := width(*l.Baseline)
			fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="12" fill="#aaa"/><text x="%d" y="%d">%s (%s)</text>`+"\n",
				label, y+16, wb, label+wb+4, y+26, Format(l.Baseline), e(formatRatio(l.Ratio)))
		}
	}
	b.WriteString("</svg>\n")
}
