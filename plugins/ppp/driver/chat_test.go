package driver

import (
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
)

func TestChat_Script(t *testing.T) {
	steps, err := parseChat([]any{abi.Tuple{"", "AT"}, []any{"OK", "ATD*99#", int64(5)}, abi.Tuple{"CONNECT", ""}})
	if err != nil {
		t.Fatal(err)
	}
	c := chat{steps: steps}
	c.start(0)
	send, done, err := c.advance(nil, 0)
	if string(send) != "AT\r" || done || err != nil {
		t.Fatalf("first step: sent %q, done %v, %v", send, done, err)
	}
	// The modem's answer in pieces, with its echo of the command.
	send, _, _ = c.advance([]byte("AT\r\r\nO"), time.Second)
	if len(send) != 0 {
		t.Fatalf("sent %q before the whole OK", send)
	}
	send, done, err = c.advance([]byte("K\r\n"), time.Second)
	if string(send) != "ATD*99#\r" || done || err != nil {
		t.Fatalf("after OK: sent %q, done %v, %v", send, done, err)
	}
	_, done, err = c.advance([]byte("\r\nCONNECT 115200\r\n"), 2*time.Second)
	if !done || err != nil {
		t.Fatalf("after CONNECT: done %v, %v", done, err)
	}
}

func TestChat_Failures(t *testing.T) {
	steps, _ := parseChat([]any{abi.Tuple{"", "AT"}, abi.Tuple{"OK", "ATD*99#", int64(5)}, abi.Tuple{"CONNECT", ""}})
	c := chat{steps: steps}
	c.start(0)
	c.advance(nil, 0)
	c.advance([]byte("OK\r\n"), time.Second) // step 3 begins at 1 s, with the default 10 s
	if _, _, err := c.advance(nil, 10*time.Second); err != nil {
		t.Fatalf("failed before its timeout: %v", err)
	}
	_, _, err := c.advance(nil, 11*time.Second)
	if err == nil || err.Error() != `chat step 3 ("CONNECT" -> ""): no "CONNECT" from the modem within 10s` {
		t.Errorf("timeout: %v", err)
	}
	c.start(0)
	c.advance(nil, 0)
	_, _, err = c.advance([]byte("\r\nERROR\r\n"), time.Second)
	if err == nil || err.Error() != `chat step 2 ("OK" -> "ATD*99#"): the modem answered "ERROR"` {
		t.Errorf("abort: %v", err)
	}
}

func TestChat_Parse(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{"AT", "chat: expected a list"},
		{[]any{abi.Tuple{"OK"}}, "chat[0]: expected an (expect, send[, timeout]) tuple, got a tuple of 1"},
		{[]any{abi.Tuple{"OK", int64(1)}}, "chat[0] send"},
		{[]any{abi.Tuple{"OK", "AT", int64(0)}}, "chat[0] timeout"},
		{[]any{abi.Tuple{"OK", "AT", "soon"}}, "chat[0] timeout: expected int or float"},
		{[]any{abi.Tuple{"OK\r", "AT"}}, "one line each"},
	} {
		if _, err := parseChat(tc.v); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseChat(%v) = %v, want %q", tc.v, err, tc.want)
		}
	}
	if s, err := parseChat(nil); s != nil || err != nil {
		t.Errorf("parseChat(None) = %v, %v", s, err)
	}
}
