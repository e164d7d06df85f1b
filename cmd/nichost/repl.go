package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/nichost/nichost/internal/control"
	"github.com/nichost/nichost/internal/pyval"
)

// networkFuncs are the network module's functions the shell knows.
var networkFuncs = []string{"hostname", "country", "ipconfig", "phy_mode"}

// nicMethods are AbstractNIC's methods, for completion.
var nicMethods = []string{"active", "connect", "disconnect", "isconnected", "scan", "status", "ipconfig", "ifconfig", "config"}

func newShell() *cobra.Command {
	return &cobra.Command{
		Use:   "shell",
		Short: "A MicroPython-style prompt on the running daemon: eth0.ipconfig('addr4')",
		Long: `nichost shell reads lines as MicroPython's REPL does and calls the daemon:

  >>> network.hostname()
  'board-7'
  >>> eth0.config(mac=b'\x02\x00\x00\x00\x00\x01')
  >>> eth0.ipconfig('addr4')
  ('192.168.0.4', '255.255.255.0')

Each line is NIC.method(...) or network.fn(...) with Python literals (str,
bytes, int, float, bool, None, tuples, lists, dicts); results print as the
REPL prints them, errors as its last line (ValueError: ..., OSError:
[Errno N] ...). On a terminal it has history and completes NIC names and
methods (Tab); otherwise it reads a script from stdin, prints each result
line and exits 1 if a line raised. help() lists the NICs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sh := &shell{c: client(cmd), ctx: cmd.Context()}
			if err := sh.refresh(); err != nil {
				return err
			}
			in := cmd.InOrStdin()
			if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				return sh.interactive(f, cmd.OutOrStdout())
			}
			raised := false
			sc := bufio.NewScanner(in)
			sc.Buffer(make([]byte, 64<<10), 64<<10)
			for sc.Scan() {
				out, err := sh.line(sc.Text())
				if out != "" {
					fmt.Fprintln(cmd.OutOrStdout(), out)
				}
				if errors.Is(err, control.ErrUnreachable) {
					return err
				}
				raised = raised || err != nil
			}
			if err := sc.Err(); err != nil {
				return err
			}
			if raised {
				return &exitError{code: exitRaised, err: errors.New("shell: a line raised"), quiet: true}
			}
			return nil
		},
	}
}

type shell struct {
	c    *control.Client
	ctx  context.Context
	nics []string
}

func (s *shell) refresh() error {
	nics, err := s.c.NICs(s.ctx)
	if err != nil {
		return err
	}
	s.nics = s.nics[:0]
	for _, n := range nics {
		s.nics = append(s.nics, n.Name)
	}
	sort.Strings(s.nics)
	return nil
}

// line runs one line and returns what to print; err is what it raised.
func (s *shell) line(text string) (string, error) {
	text = strings.TrimSpace(text)
	if text == "" || strings.HasPrefix(text, "#") {
		return "", nil
	}
	switch text {
	case "help()":
		return "NICs: " + strings.Join(s.nics, ", ") + "\nmethods: " + strings.Join(nicMethods, ", ") +
			"\nnetwork: " + strings.Join(networkFuncs, ", "), nil
	case "network":
		return "<module 'network'>", nil
	}
	if slices.Contains(s.nics, text) {
		return "<NIC " + text + ">", nil
	}
	call, err := pyval.ParseCall(text)
	if err != nil {
		if call.Target != "" && call.Target != "network" && !slices.Contains(s.nics, call.Target) {
			return nameError(call.Target), err
		}
		return err.Error(), err
	}
	var v any
	switch {
	case call.Target == "network":
		if !slices.Contains(networkFuncs, call.Method) {
			err = fmt.Errorf("AttributeError: 'module' object has no attribute '%s'", call.Method)
			return err.Error(), err
		}
		v, err = s.c.Network(s.ctx, call.Method, call.Args, call.KW)
	case slices.Contains(s.nics, call.Target):
		v, err = s.c.Call(s.ctx, call.Target, call.Method, call.Args, call.KW)
	default:
		if s.refresh() == nil && slices.Contains(s.nics, call.Target) { // a NIC added since
			return s.line(text)
		}
		err = errors.New(nameError(call.Target))
		return err.Error(), err
	}
	if err != nil {
		return err.Error(), err
	}
	if v == nil {
		return "", nil
	}
	return pyval.Repr(v), nil
}

func nameError(name string) string { return fmt.Sprintf("NameError: name '%s' isn't defined", name) }

// interactive runs the prompt on a terminal, with history and completion.
func (s *shell) interactive(f *os.File, out io.Writer) error {
	old, err := term.MakeRaw(int(f.Fd()))
	if err != nil {
		return err
	}
	defer term.Restore(int(f.Fd()), old)
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{f, out}, ">>> ")
	t.AutoCompleteCallback = func(line string, pos int, key rune) (string, int, bool) {
		if key != '\t' {
			return "", 0, false
		}
		head := line[:pos]
		if done, ok := s.complete(head); ok {
			return done + line[pos:], len(done), true
		}
		return "", 0, false
	}
	fmt.Fprintf(t, "nichost shell on %s; NICs: %s; help() for more, Ctrl-D to leave\n", s.c.SocketPath(), strings.Join(s.nics, ", "))
	for {
		line, err := t.ReadLine()
		if err == io.EOF {
			fmt.Fprintln(t)
			return nil
		}
		if err != nil {
			return err
		}
		if msg, _ := s.line(line); msg != "" {
			fmt.Fprintln(t, msg)
		}
	}
}

// complete extends head to the one NIC, function or method it can name.
func (s *shell) complete(head string) (string, bool) {
	target, part, dotted := strings.Cut(head, ".")
	var names []string
	if !dotted {
		names, part, target = append(slices.Clone(s.nics), "network"), target, ""
	} else if target == "network" {
		names = networkFuncs
	} else {
		names = nicMethods
	}
	var match []string
	for _, n := range names {
		if strings.HasPrefix(n, part) {
			match = append(match, n)
		}
	}
	if len(match) != 1 {
		return "", false
	}
	if !dotted {
		return match[0], true
	}
	return target + "." + match[0] + "(", true
}
