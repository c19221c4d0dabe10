package tftp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSlots(t *testing.T) {
	s := newSlots(3, 2)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for range 2 {
		if r := s.acquire(a); r != nil {
			t.Fatalf("acquire(a): %v", r)
		}
	}
	if r := s.acquire(a); r == nil || r.msg != msgClientBusy {
		t.Fatalf("third acquire(a) = %v, want the per-client refusal", r)
	}
	if r := s.acquire(b); r != nil {
		t.Fatalf("acquire(b): %v", r)
	}
	if r := s.acquire(b); r == nil || r.msg != msgBusy {
		t.Fatalf("fourth acquire = %v, want the global refusal", r)
	}
	if got := s.running(); got != 3 {
		t.Errorf("running() = %d, want 3", got)
	}
	s.release(a)
	if r := s.acquire(b); r != nil {
		t.Fatalf("acquire(b) after a release: %v", r)
	}
	for _, k := range []netip.Addr{a, b, b} {
		s.release(k)
	}
	if got := s.running(); got != 0 || len(s.per) != 0 {
		t.Errorf("after releasing all: running() = %d, per = %v", got, s.per)
	}
}

func TestClientKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2::"},
		{"2001:db8:1:2:bbbb::9", "2001:db8:1:2::"},
		{"fe80::1%eth0", "fe80::"},
	}
	for _, tt := range tests {
		if got := clientKey(netip.MustParseAddr(tt.in)); got != netip.MustParseAddr(tt.want) {
			t.Errorf("clientKey(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(2, 3)
	l.now = func() time.Time { return now }
	allowed := 0
	for range 10 {
		if l.allow("busy", true) {
			allowed++
		}
	}
	if allowed != 3 {
		t.Errorf("burst: %d of 10 allowed, want 3", allowed)
	}
	if !l.allow("ok", false) {
		t.Errorf("another reason has a bucket of its own")
	}
	now = now.Add(time.Second) // two tokens
	allowed = 0
	for range 5 {
		if l.allow("busy", true) {
			allowed++
		}
	}
	if allowed != 2 {
		t.Errorf("after 1s at 2/s: %d of 5 allowed, want 2", allowed)
	}
	want := []suppressed{{"busy", true, 10}}
	if diff := cmp.Diff(want, l.takeSuppressed(), cmp.AllowUnexported(suppressed{})); diff != "" {
		t.Errorf("suppressed (-want +got):\n%s", diff)
	}
	if got := l.takeSuppressed(); len(got) != 0 {
		t.Errorf("second takeSuppressed = %v, want nothing", got)
	}
	now = now.Add(time.Hour) // refills to the burst, no more
	allowed = 0
	for range 10 {
		if l.allow("busy", true) {
			allowed++
		}
	}
	if allowed != 3 {
		t.Errorf("after an hour: %d of 10 allowed, want 3", allowed)
	}
}
