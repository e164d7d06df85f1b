package main

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// manPage is nichost(1) in roff (man(7) macros), made from the commands'
// own help texts, so that it says what --help says.
func manPage(root *cobra.Command, version string, date time.Time) []byte {
	root.InitDefaultCompletionCmd() // as Execute would add it
	var b bytes.Buffer
	fmt.Fprintf(&b, ".TH NICHOST 1 %q %q \"User Commands\"\n", date.Format("2006-01-02"), "nichost "+version)
	b.WriteString(".SH NAME\nnichost \\- " + roffText(root.Short) + "\n")
	b.WriteString(".SH SYNOPSIS\n.B nichost\n.I command\n.RI [ flags ]\n")
	b.WriteString(".SH DESCRIPTION\n")
	b.WriteString(roffText("nichost runs network interface drivers as WebAssembly plugins that reach the hardware only through the buses the configuration grants them, and presents their NICs with MicroPython's network API: to programs in Go, to the CLI below, and to the daemon's control API. `nichost demo` runs it on simulated hardware; `nichost run -c /etc/nichost/nichost.yaml` is the daemon (the nichost.service unit).") + "\n")
	b.WriteString(".SH COMMANDS\n")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.Name() == "help" {
				continue
			}
			fmt.Fprintf(&b, ".SS %s\n", roffText(sub.CommandPath()))
			fmt.Fprintf(&b, ".B %s\n.PP\n", roffText(sub.UseLine()))
			text := sub.Long
			if text == "" {
				text = sub.Short
			}
			b.WriteString(roffParagraphs(text))
			if flags := sub.LocalNonPersistentFlags(); flags.HasAvailableFlags() {
				flags.VisitAll(func(f *pflag.Flag) {
					if f.Hidden || f.Name == "help" {
						return
					}
					name := "\\-\\-" + roffText(f.Name)
					if f.Shorthand != "" {
						name = "\\-" + f.Shorthand + ", " + name
					}
					fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", name, roffText(f.Usage))
				})
			}
			walk(sub)
		}
	}
	walk(root)
	b.WriteString(".SH OPTIONS\n.TP\n.B \\-\\-socket PATH\nthe daemon's control socket, for the commands that talk to it\n")
	b.WriteString(".SH ENVIRONMENT\n")
	for _, e := range [][2]string{
		{"NICHOST_SOCKET", "the control socket, when --socket is not given"},
		{"NICHOST_CACHE", "the plugin build cache and the engine's compilation cache"},
		{"NICHOST_ENGINE", "the WebAssembly engine (wazero, or wasmtime in a build with it)"},
		{"NICHOST_CLANG", "the clang that builds C plugins"},
	} {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", e[0], roffText(e[1]))
	}
	b.WriteString(".SH FILES\n")
	for _, f := range [][2]string{
		{"/etc/nichost/nichost.yaml", "the daemon's configuration (nichost check FILE validates it)"},
		{"/usr/lib/nichost/plugins", "the driver plugins of the package, with their declarations and signatures"},
		{"/run/nichost/control.sock", "the daemon's control socket"},
		{"/var/cache/nichost", "the daemon's caches"},
	} {
		fmt.Fprintf(&b, ".TP\n.I %s\n%s\n", f[0], roffText(f[1]))
	}
	b.WriteString(".SH SEE ALSO\n.BR systemctl (1),\n.BR journalctl (1)\n")
	return b.Bytes()
}

// roffText escapes text for one roff line: backslashes, hyphens (as
// \-), and a leading dot or quote, which would start a request.
func roffText(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	s = strings.ReplaceAll(s, "\n", " ")
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffParagraphs sets a help text: paragraphs as .PP, indented lines
// (examples, tables) verbatim in .nf/.fi.
func roffParagraphs(text string) string {
	var b strings.Builder
	var para []string
	flush := func() {
		if len(para) > 0 {
			b.WriteString(roffText(strings.Join(para, " ")) + "\n.PP\n")
			para = nil
		}
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.TrimSpace(l) == "":
			flush()
		case strings.HasPrefix(l, "  ") || strings.HasPrefix(l, "\t"):
			flush()
			b.WriteString(".nf\n")
			for ; i < len(lines) && (strings.HasPrefix(lines[i], "  ") || strings.HasPrefix(lines[i], "\t")); i++ {
				line := roffText(lines[i])
				if strings.HasPrefix(strings.TrimSpace(lines[i]), ".") {
					line = `\&` + line
				}
				b.WriteString(line + "\n")
			}
			i--
			b.WriteString(".fi\n.PP\n")
		default:
			para = append(para, strings.TrimSpace(l))
		}
	}
	flush()
	return b.String()
}
