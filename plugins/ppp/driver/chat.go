package driver

import (
	"fmt"
	"strings"
	"time"

	"github.com/nichost/nichost/abi"
)

// A chat step is one expect/send pair of a modem's dial script, as chat(8)
// has them: wait until the modem's output holds Expect ("" waits for
// nothing), then send Send followed by a carriage return ("" sends
// nothing). Each step has Timeout to see its Expect.
type chatStep struct {
	Expect, Send string
	Timeout      time.Duration
}

// defaultChatTimeout is a step's timeout when config(chat=...) gives none.
const defaultChatTimeout = 10 * time.Second

// chatAborts are the modem's answers that end a dial script at once.
var chatAborts = []string{"NO CARRIER", "BUSY", "NO DIALTONE", "NO ANSWER", "ERROR"}

// parseChat checks config(chat=...): a list of (expect, send) or (expect,
// send, timeout in seconds) tuples or lists; None or an empty list is no
// dial step.
func parseChat(v any) ([]chatStep, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := seq(v)
	if !ok {
		return nil, abi.TypeError("chat: expected a list of (expect, send[, timeout]) tuples, got %s", abi.TypeName(v))
	}
	steps := make([]chatStep, 0, len(list))
	for i, e := range list {
		t, ok := seq(e)
		if !ok || len(t) < 2 || len(t) > 3 {
			return nil, abi.TypeError("chat[%d]: expected an (expect, send[, timeout]) tuple, got %s", i, describe(e))
		}
		expect, err := abi.Str(fmt.Sprintf("chat[%d] expect", i), t[0])
		if err != nil {
			return nil, err
		}
		send, err := abi.Str(fmt.Sprintf("chat[%d] send", i), t[1])
		if err != nil {
			return nil, err
		}
		st := chatStep{Expect: expect, Send: send, Timeout: defaultChatTimeout}
		if len(t) == 3 {
			d, err := seconds(fmt.Sprintf("chat[%d] timeout", i), t[2])
			if err != nil {
				return nil, err
			}
			if d <= 0 {
				return nil, abi.ValueError("chat[%d] timeout: %v is not a positive number of seconds", i, t[2])
			}
			st.Timeout = d
		}
		if strings.ContainsAny(expect+send, "\r\n") {
			return nil, abi.ValueError("chat[%d]: expect and send are one line each (the driver ends a send with a carriage return)", i)
		}
		steps = append(steps, st)
	}
	return steps, nil
}

// seq is a list's or a tuple's items.
func seq(v any) ([]any, bool) {
	switch t := v.(type) {
	case []any:
		return t, true
	case abi.Tuple:
		return t, true
	}
	return nil, false
}

func describe(v any) string {
	if t, ok := seq(v); ok {
		return fmt.Sprintf("a tuple of %d", len(t))
	}
	return abi.TypeName(v)
}

// chatValue is config('chat'): the script as it was set.
func chatValue(steps []chatStep) any {
	if len(steps) == 0 {
		return nil
	}
	out := make([]any, len(steps))
	for i, s := range steps {
		out[i] = abi.Tuple{s.Expect, s.Send, s.Timeout.Seconds()}
	}
	return out
}

// chat runs a dial script over the UART, before PPP starts.
type chat struct {
	steps []chatStep
	i     int           // the step waiting for its Expect
	due   time.Duration // when step i times out
	seen  []byte        // the modem's output since step i began (its tail)
}

// chatMaxSeen bounds what a step keeps of the modem's output.
const chatMaxSeen = 512

// step describes step i for errors: `step 2 ("OK" -> "ATD*99#")`.
func (c *chat) step() string {
	s := c.steps[c.i]
	return fmt.Sprintf("chat step %d (%q -> %q)", c.i+1, s.Expect, s.Send)
}

// advance takes the modem's output and the time and runs the script on:
// it returns what to send to the modem, done when the script is over, and
// an error naming the step that failed.
func (c *chat) advance(in []byte, now time.Duration) (send []byte, done bool, err error) {
	c.seen = append(c.seen, in...)
	if n := len(c.seen); n > chatMaxSeen {
		c.seen = append(c.seen[:0], c.seen[n-chatMaxSeen:]...)
	}
	for c.i < len(c.steps) {
		s := c.steps[c.i]
		if s.Expect != "" {
			text := string(c.seen)
			if k := strings.Index(text, s.Expect); k >= 0 {
				c.seen = append(c.seen[:0], c.seen[k+len(s.Expect):]...)
			} else {
				for _, a := range chatAborts {
					if strings.Contains(text, a) && !strings.Contains(s.Expect, a) {
						return send, false, fmt.Errorf("%s: the modem answered %q", c.step(), a)
					}
				}
				if now >= c.due {
					return send, false, fmt.Errorf("%s: no %q from the modem within %v", c.step(), s.Expect, s.Timeout)
				}
				return send, false, nil
			}
		}
		if s.Send != "" {
			send = append(append(send, s.Send...), '\r')
		}
		c.i++
		if c.i < len(c.steps) {
			c.due = now + c.steps[c.i].Timeout
		}
	}
	return send, true, nil
}

// start begins the script at now.
func (c *chat) start(now time.Duration) {
	c.i, c.seen = 0, c.seen[:0]
	if len(c.steps) > 0 {
		c.due = now + c.steps[0].Timeout
	}
}
