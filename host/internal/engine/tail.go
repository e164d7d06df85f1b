package engine

import (
	"bytes"
	"strings"
	"sync"
)

// tail keeps the last lines a guest wrote to stdout/stderr, and passes each
// complete line to a logger.
type tail struct {
	mu    sync.Mutex
	log   func(string)
	part  []byte
	lines []string
	key   string // the first "panic:" or "fatal error:" line: the cause
}

const tailLines = 8

func newTail(log func(string)) *tail { return &tail{log: log} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part = append(t.part, p...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		t.add(string(t.part[:i]))
		t.part = t.part[i+1:]
	}
	if len(t.part) > 4096 { // a runaway line without newline
		t.add(string(t.part))
		t.part = t.part[:0]
	}
	return len(p), nil
}

func (t *tail) add(line string) {
	if line == "" {
		return
	}
	if t.key == "" && (strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ")) {
		t.key = line
	}
	if t.log != nil {
		t.log(line)
	}
	t.lines = append(t.lines, line)
	if len(t.lines) > tailLines {
		t.lines = t.lines[len(t.lines)-tailLines:]
	}
}

// String explains what the guest last said: the Go runtime's panic or
// fatal-error line if there was one (the goroutine dump after it is noise
// here; it went to the log), else the kept lines joined with " | ".
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.key != "" {
		return t.key
	}
	l := t.lines
	if len(t.part) > 0 {
		l = append(l[:len(l):len(l)], string(t.part))
	}
	return strings.Join(l, " | ")
}
