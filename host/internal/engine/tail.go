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
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i]
		}
		// Keep at most maxLine bytes of a line: a guest cannot make the
		// host hold a huge write.
		if room := maxLine - len(t.part); room > 0 {
			t.part = append(t.part, seg[:min(len(seg), room)]...)
		}
		if i < 0 {
			break
		}
		t.add(string(t.part))
		t.part = t.part[:0]
		p = p[i+1:]
	}
	return n, nil
}

// maxLine is the longest line kept or logged; the rest is cut.
const maxLine = 1024

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
