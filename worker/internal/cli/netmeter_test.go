package cli_test

import (
	"net"
	"sync"
)

// The NAT gateway processes IP packets, so the meter counts what a packet
// carries: the TCP payload exactly (TLS records, HTTP headers and bodies, as
// the server's socket reads and writes them) plus an estimate of the IP and
// TCP headers around it, which no socket can see:
//   - every data segment: IPv4 header 20 bytes (RFC 791) + TCP header 20
//     bytes (RFC 9293) + the 12-byte timestamps option Linux sends by default
//     (RFC 7323) = 52 bytes, at most mss bytes of payload each;
//   - the receiver ACKs every second segment of a flight (delayed ACK) and
//     the last one; each ACK is counted as its own 52-byte packet although it
//     often rides on the reply, so the estimate is an upper bound;
//   - a connection costs SYN and SYN-ACK of 60 bytes (20 + 20 + 20 bytes of
//     options: MSS, SACK permitted, timestamps, window scale) and an ACK at
//     the start, a FIN and an ACK from each side at the end.
const (
	packetHeaderBytes = 52
	synBytes          = 60
	// mss is the payload of a full segment on a 1500-byte path (the NAT to
	// the ALB's public address): 1500 - 52.
	mss            = 1448
	connOpenBytes  = 2*synBytes + packetHeaderBytes
	connCloseBytes = 4 * packetHeaderBytes
)

// Directions of a flight.
const (
	dirNone = iota
	dirIn
	dirOut
)

// wireBytes is a snapshot of a meter.
type wireBytes struct {
	In, Out int64 // TCP payload: worker -> backend, backend -> worker
	Headers int64 // estimated IP + TCP header bytes of every packet so far
	Conns   int   // TCP connections accepted (each one a TLS handshake)
}

// Total is what the NAT processes: payload both ways plus packet headers.
func (w wireBytes) Total() int64 { return w.In + w.Out + w.Headers }

// Payload is the TCP payload both ways (what a socket sees).
func (w wireBytes) Payload() int64 { return w.In + w.Out }

func (w wireBytes) minus(o wireBytes) wireBytes {
	return wireBytes{In: w.In - o.In, Out: w.Out - o.Out, Headers: w.Headers - o.Headers, Conns: w.Conns - o.Conns}
}

// meter counts the bytes of every connection accepted by its listener.
type meter struct {
	mu  sync.Mutex
	tot wireBytes
	// closed receives the totals of each connection when it closes.
	closed chan wireBytes
}

func newMeter() *meter { return &meter{closed: make(chan wireBytes, 64)} }

func (m *meter) snapshot() wireBytes {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tot
}

// listen wraps l so that every accepted connection is counted.
func (m *meter) listen(l net.Listener) net.Listener { return &meteredListener{Listener: l, m: m} }

type meteredListener struct {
	net.Listener
	m *meter
}

func (l *meteredListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.m.mu.Lock()
	l.m.tot.Conns++
	l.m.tot.Headers += connOpenBytes
	l.m.mu.Unlock()
	return &meteredConn{Conn: c, m: l.m, own: wireBytes{Conns: 1, Headers: connOpenBytes}}, nil
}

// meteredConn counts one connection's payload and groups it into flights
// (runs of bytes in one direction) to estimate segments and ACKs.
type meteredConn struct {
	net.Conn
	m      *meter
	dir    int
	flight int64
	own    wireBytes
	once   sync.Once
}

func (c *meteredConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.count(dirIn, n)
	return n, err
}

func (c *meteredConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.count(dirOut, n)
	return n, err
}

func (c *meteredConn) count(dir, n int) {
	if n <= 0 {
		return
	}
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	if c.dir != dir {
		c.endFlightLocked()
		c.dir = dir
	}
	c.flight += int64(n)
	if dir == dirIn {
		c.m.tot.In += int64(n)
		c.own.In += int64(n)
	} else {
		c.m.tot.Out += int64(n)
		c.own.Out += int64(n)
	}
}

// endFlightLocked adds the headers of the flight that just ended: its data
// segments and the receiver's ACKs.
func (c *meteredConn) endFlightLocked() {
	if c.flight == 0 {
		return
	}
	segments := (c.flight + mss - 1) / mss
	acks := (segments + 1) / 2
	h := (segments + acks) * packetHeaderBytes
	c.m.tot.Headers += h
	c.own.Headers += h
	c.flight = 0
}

func (c *meteredConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.m.mu.Lock()
		c.endFlightLocked()
		c.dir = dirNone
		c.m.tot.Headers += connCloseBytes
		c.own.Headers += connCloseBytes
		own := c.own
		c.m.mu.Unlock()
		select {
		case c.m.closed <- own:
		default:
		}
	})
	return err
}
