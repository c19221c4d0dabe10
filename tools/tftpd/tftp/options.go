package tftp

import (
	"strconv"
	"strings"
	"time"
)

// Limits of the negotiable options.
const (
	DefaultBlockSize = 512   // RFC 1350
	MinBlockSize     = 8     // RFC 2348
	MaxBlockSize     = 65464 // RFC 2348
	MinTimeout       = 1     // seconds, RFC 2349
	MaxTimeout       = 255   // seconds, RFC 2349
	MinWindowSize    = 1     // RFC 7440
	MaxWindowSize    = 65535 // RFC 7440
)

// params are the settings one transfer runs with.
type params struct {
	blockSize  int
	windowSize int
	timeout    time.Duration // retransmission timeout
}

// negotiate decides which of a read request's options the server accepts
// and returns the transfer settings together with the options to put in
// the OACK. An empty OACK list means no OACK is sent (RFC 2347): the
// transfer then starts with DATA block 1 and the RFC 1350 defaults.
//
// size is the number of bytes the transfer will send, or -1 if that is not
// known in advance (netascii), in which case tsize is not acknowledged.
//
// Names are matched case-insensitively and echoed as the client spelled
// them, so that a client comparing them byte for byte still finds them.
// An option given twice counts once, the first time. Unknown options and
// values that cannot be honoured are ignored, as RFC 2347 prescribes, except
// that a blksize above the maximum is lowered to it (RFC 2348 lets the
// server answer with a smaller size).
//
// A timeout above maxTimeout is declined (ignored), which bounds how long
// a transfer to a silent client lasts: RFC 2349 lets the server decline
// the option but not answer with another value.
func negotiate(opts []Option, def params, size int64, maxTimeout time.Duration) (params, []Option) {
	p := def
	var oack []Option
	seen := make(map[string]bool)
	for _, o := range opts {
		name := strings.ToLower(o.Name)
		if seen[name] {
			continue
		}
		seen[name] = true
		v, ok := parseDecimal(o.Value)
		if !ok {
			continue
		}
		switch name {
		case "blksize":
			if v < MinBlockSize {
				continue
			}
			p.blockSize = int(min(v, MaxBlockSize))
			oack = append(oack, Option{o.Name, strconv.Itoa(p.blockSize)})
		case "timeout":
			if v < MinTimeout || v > MaxTimeout || time.Duration(v)*time.Second > maxTimeout {
				continue
			}
			p.timeout = time.Duration(v) * time.Second
			oack = append(oack, Option{o.Name, strconv.FormatInt(v, 10)})
		case "tsize":
			// In a read request the client sends 0 and the server
			// answers with the size (RFC 2349).
			if size < 0 {
				continue
			}
			oack = append(oack, Option{o.Name, strconv.FormatInt(size, 10)})
		case "windowsize":
			if v < MinWindowSize || v > MaxWindowSize {
				continue
			}
			p.windowSize = int(v)
			oack = append(oack, Option{o.Name, strconv.FormatInt(v, 10)})
		}
	}
	return p, oack
}

// parseDecimal parses an unsigned decimal number. Unlike strconv.Atoi it
// rejects signs and spaces. Values too large for an int64 are reported as
// math.MaxInt64 so that they count as "too big" rather than "garbage".
func parseDecimal(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (1<<63-1-9)/10 {
			v = 1<<63 - 1
			continue
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}
