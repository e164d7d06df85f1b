package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// maxPluginLog is how many of the plugin's last log lines `nichost test`
// keeps to show after a failure.
const maxPluginLog = 200

// pluginLog keeps the log lines the host writes for one plugin during a
// conformance run (those carrying plugin=NAME), so that `nichost test` can
// show them when a check fails; a passing run prints none of them.
type pluginLog struct {
	tag   string // " plugin=NAME"
	mu    sync.Mutex
	lines []string
	total int
}

func newPluginLog(plugin string) *pluginLog { return &pluginLog{tag: " plugin=" + plugin} }

// Logger is the logger to give the suite: every record at debug level and
// above goes through the filter.
func (l *pluginLog) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{} // the lines are shown right after the run
			}
			return a
		},
	}))
}

// Write takes one formatted record (slog's text handler writes each record
// with one call) and keeps it if it is the plugin's.
func (l *pluginLog) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	if !strings.Contains(line, l.tag) {
		return len(p), nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total++
	if len(l.lines) == maxPluginLog {
		l.lines = append(l.lines[:0], l.lines[1:]...)
	}
	l.lines = append(l.lines, line)
	return len(p), nil
}

// show prints the kept lines.
func (l *pluginLog) show(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.total == 0:
		fmt.Fprintln(w, "the plugin wrote no log lines")
		return
	case l.total > len(l.lines):
		fmt.Fprintf(w, "the plugin's log (the last %d of %d lines):\n", len(l.lines), l.total)
	default:
		fmt.Fprintf(w, "the plugin's log (%d lines):\n", l.total)
	}
	for _, line := range l.lines {
		fmt.Fprintf(w, "  %s\n", line)
	}
}
