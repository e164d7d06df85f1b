package driver

import "testing"

// Under traffic that never lets the staged list empty (one frame always
// waits behind the one on the wire), the list stays as long as what is
// staged instead of growing by a frame per frame sent.
func TestTxState_StagedListStaysBounded(t *testing.T) {
	var tx txState
	tx.push(60)
	for range 100_000 {
		tx.push(60)
		tx.pop()
	}
	if tx.staged() != 1 || cap(tx.ends) > 64 {
		t.Fatalf("staged %d, list capacity %d after 100,000 frames: want 1 and a few", tx.staged(), cap(tx.ends))
	}
	// And it still hands out the frames' ends in order.
	want := uint16(60 * 100_001 % 65536) // the pointers are free-running 16-bit counters
	if got := tx.pop(); got != want {
		t.Fatalf("last frame ends at %d, want %d", got, want)
	}
}
