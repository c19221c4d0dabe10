package ruleset

import (
	"strconv"
	"strings"
)

// IP addresses, as net/netip writes and reads them (without zones): the
// device would pay 20 KiB for netip's parser and formatter.

// parseAddr parses an IPv4 address (4 bytes) or an IPv6 address (16).
func parseAddr(s string) ([]byte, bool) {
	if strings.Contains(s, ":") {
		return parseIPv6(s)
	}
	return parseIPv4(s)
}

func parseIPv4(s string) ([]byte, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return nil, false
	}
	b := make([]byte, 4)
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil || len(p) > 1 && p[0] == '0' || p[0] == '+' {
			return nil, false
		}
		b[i] = byte(n)
	}
	return b, true
}

func parseIPv6(s string) ([]byte, bool) {
	ip := make([]byte, 16)
	ellipsis := -1 // where "::" is, in bytes
	if strings.HasPrefix(s, "::") {
		ellipsis, s = 0, s[2:]
	}
	i := 0
	for i < 16 && s != "" {
		n, v := 0, 0
		for ; n < len(s) && n < 5; n++ {
			c := s[n]
			switch {
			case '0' <= c && c <= '9':
				v = v<<4 | int(c-'0')
				continue
			case 'a' <= c && c <= 'f':
				v = v<<4 | int(c-'a'+10)
				continue
			case 'A' <= c && c <= 'F':
				v = v<<4 | int(c-'A'+10)
				continue
			}
			break
		}
		if n < len(s) && s[n] == '.' {
			// An IPv4 address as the last 32 bits.
			if ellipsis < 0 && i != 12 || i > 12 {
				return nil, false
			}
			v4, ok := parseIPv4(s)
			if !ok {
				return nil, false
			}
			copy(ip[i:], v4)
			i, s = i+4, ""
			break
		}
		if n == 0 || n > 4 {
			return nil, false
		}
		ip[i], ip[i+1] = byte(v>>8), byte(v)
		i, s = i+2, s[n:]
		if s == "" {
			break
		}
		if s[0] != ':' || len(s) == 1 {
			return nil, false
		}
		s = s[1:]
		if s[0] == ':' {
			if ellipsis >= 0 {
				return nil, false
			}
			ellipsis, s = i, s[1:]
		}
	}
	if s != "" {
		return nil, false
	}
	if i < 16 {
		if ellipsis < 0 {
			return nil, false
		}
		n := 16 - i
		copy(ip[ellipsis+n:], ip[ellipsis:i])
		for j := ellipsis; j < ellipsis+n; j++ {
			ip[j] = 0
		}
	} else if ellipsis >= 0 {
		return nil, false // "::" stands for at least one group
	}
	return ip, true
}

// formatAddr writes an address of 4 or 16 bytes as netip does: IPv6 in
// RFC 5952's form, IPv4-mapped IPv6 as ::ffff:a.b.c.d.
func formatAddr(b []byte) string {
	if len(b) == 4 {
		return strconv.Itoa(int(b[0])) + "." + strconv.Itoa(int(b[1])) + "." + strconv.Itoa(int(b[2])) + "." + strconv.Itoa(int(b[3]))
	}
	if string(b[:12]) == "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff" {
		return "::ffff:" + formatAddr(b[12:])
	}
	// The longest run of two zero groups or more becomes "::".
	start, end := -1, -1
	for i := 0; i < 8; {
		j := i
		for j < 8 && b[2*j] == 0 && b[2*j+1] == 0 {
			j++
		}
		if j-i >= 2 && j-i > end-start {
			start, end = i, j
		}
		if j == i {
			j++
		}
		i = j
	}
	var s strings.Builder
	for i := 0; i < 8; i++ {
		if i == start {
			s.WriteString("::")
			i = end - 1
			continue
		}
		if i > 0 && i != end {
			s.WriteByte(':')
		}
		s.WriteString(strconv.FormatUint(uint64(b[2*i])<<8|uint64(b[2*i+1]), 16))
	}
	return s.String()
}

// mask returns the mask of a prefix of bits in an address of size bytes.
func mask(size, bits int) []byte {
	m := make([]byte, size)
	for i := 0; i < bits; i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	return m
}

// masked returns the address with the bits after the prefix zeroed.
func masked(addr []byte, bits int) []byte {
	m := mask(len(addr), bits)
	out := make([]byte, len(addr))
	for i := range addr {
		out[i] = addr[i] & m[i]
	}
	return out
}
