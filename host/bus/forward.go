package bus

// Forward hands every frame that arrives on port to deliver, on a
// goroutine of its own, until stop is called (stop waits for it). deliver
// gets a buffer that is reused for the next frame. It is how something that
// is not a plugin (a second stack standing in for a router, a benchmark's
// bare stack) reads a port.
func Forward(port FramePort, deliver func(frame []byte)) (stop func()) {
	wake := make(chan struct{}, 1)
	port.Notify(func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		buf := make([]byte, 65536)
		for {
			for {
				n, err := port.ReadFrame(buf)
				if n == 0 || err != nil {
					break
				}
				deliver(buf[:n])
			}
			select {
			case <-done:
				return
			case <-wake:
			}
		}
	}()
	return func() {
		port.Notify(nil)
		close(done)
		<-stopped
	}
}
