package tftp

import (
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"
)

// Defaults for the zero values of the Server limits.
const (
	DefaultMaxTransfers = 64
	DefaultMaxPerClient = 8
	DefaultMaxTimeout   = 30 * time.Second
)

// Rate of the log and refusal limiter: per reason, a burst of logBurst
// events, then logRate per second. Legitimate use (a few devices booting
// at once) stays well inside it.
const (
	logBurst        = 50
	logRate         = 2.0
	summaryInterval = 10 * time.Second
)

// slots counts the running transfers, in all and per client, so that read
// requests beyond the limits are refused before a socket, goroutine or
// file is spent on them.
type slots struct {
	max, maxPer int

	mu    sync.Mutex
	total int
	per   map[netip.Addr]int // by clientKey
}

func newSlots(max, maxPer int) *slots {
	return &slots{max: max, maxPer: maxPer, per: make(map[netip.Addr]int)}
}

// clientKey is what the per-client limit counts by: the IPv4 address, or
// the /64 of an IPv6 address, since a host on an IPv6 network usually has
// a whole /64 to pick source addresses from.
func clientKey(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// acquire takes a slot for a transfer of the client key. If a limit is
// reached it returns a refusal instead; the slot must be released when
// the transfer ends.
func (s *slots) acquire(key netip.Addr) *refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.total >= s.max {
		return &refusal{ErrUndefined, msgBusy, fmt.Sprintf("server busy: %d transfers running (limit %d)", s.total, s.max)}
	}
	if s.per[key] >= s.maxPer {
		return &refusal{ErrUndefined, msgClientBusy, fmt.Sprintf("client busy: %d transfers running for this client (limit %d)", s.per[key], s.maxPer)}
	}
	s.total++
	s.per[key]++
	return nil
}

func (s *slots) release(key netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.per[key]--; s.per[key] <= 0 {
		delete(s.per, key)
	}
}

// running returns the number of transfers holding a slot.
func (s *slots) running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Messages of the refusals for the limits, sent in ERROR 0.
const (
	msgBusy       = "too many transfers, try again later"
	msgClientBusy = "too many transfers from your address, try again later"
)

// A limiter rate-limits log lines, and the ERROR replies of refusals, with
// a token bucket per reason. Reasons must come from a small fixed set
// (never from request data), as each gets a bucket for good.
type limiter struct {
	rate  float64 // tokens per second
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens     float64
	last       time.Time
	refusal    bool // what the reason stands for, for the summary
	suppressed int
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), now: time.Now, buckets: make(map[string]*bucket)}
}

// allow reports whether an event of the reason may be logged (and, for a
// refusal, answered). If not, it is counted for the next summary.
func (l *limiter) allow(reason string, refusal bool) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[reason]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now, refusal: refusal}
		l.buckets[reason] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	b.suppressed++
	return false
}

// A suppressed is the number of events of a reason not logged since the
// last summary.
type suppressed struct {
	reason  string
	refusal bool
	count   int
}

// takeSuppressed returns the suppressed counts, by reason, and resets them.
func (l *limiter) takeSuppressed() []suppressed {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []suppressed
	for reason, b := range l.buckets {
		if b.suppressed > 0 {
			out = append(out, suppressed{reason, b.refusal, b.suppressed})
			b.suppressed = 0
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].reason < out[j].reason })
	return out
}
