"""Checks of typed service options, done at analysis time.

Each returns an error string (empty when the value is good) so that callers
can fail() with the attribute named.
"""

_DIGITS = "0123456789"
_HEX = "0123456789abcdefABCDEF"

# What an interface name may contain (ifname_cases.bzl has the cases, shared
# with the Go definition in userland/firewall/ruleset).
_IFNAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

def _all_in(s, chars):
    for c in s.elems():
        if c not in chars:
            return False
    return True

def ipv4_error(value):
    """Returns why value is not a dotted-quad IPv4 address, or "".

    Args:
      value: the string to check.

    Returns:
      "" when value is good, else a message that says why not.
    """
    parts = value.split(".")
    if len(parts) != 4:
        return "%r is not an IPv4 address: want four dot-separated numbers, e.g. 192.168.1.1" % value
    for p in parts:
        if not p or not _all_in(p, _DIGITS) or len(p) > 3:
            return "%r is not an IPv4 address: %r is not a number from 0 to 255" % (value, p)
        if (len(p) > 1 and p[0] == "0") or int(p) > 255:
            return "%r is not an IPv4 address: %r is not a number from 0 to 255 (no leading zeros)" % (value, p)
    return ""

def ipv6_error(value):
    """Returns why value is not an IPv6 address (RFC 4291 text form), or "".

    Args:
      value: the string to check.

    Returns:
      "" when value is good, else a message that says why not.
    """
    if "%" in value:
        return "%r is not an IPv6 address: zone indexes are not allowed" % value
    if value.count("::") > 1:
        return "%r is not an IPv6 address: \"::\" may appear only once" % value
    head, sep, tail = value.partition("::")
    groups = [g for g in head.split(":") if head] + [g for g in tail.split(":") if tail]
    want = 8
    if groups and "." in groups[-1]:
        err = ipv4_error(groups[-1])
        if err:
            return "%r is not an IPv6 address: its IPv4 tail: %s" % (value, err)
        groups = groups[:-1]
        want = 6
    for g in groups:
        if not g or len(g) > 4 or not _all_in(g, _HEX):
            return "%r is not an IPv6 address: %r is not a group of 1 to 4 hex digits" % (value, g)
    if (sep and len(groups) >= want) or (not sep and len(groups) != want):
        return "%r is not an IPv6 address: wrong number of groups" % value
    return ""

def ip_error(value):
    """Returns why value is neither an IPv4 nor an IPv6 address, or "".

    Args:
      value: the string to check.

    Returns:
      "" when value is good, else a message that says why not.
    """
    if ":" in value:
        return ipv6_error(value)
    return ipv4_error(value)

def cidr_error(value):
    """Returns why value is not ADDRESS/PREFIXLEN (IPv4 or IPv6), or "".

    Args:
      value: the string to check.

    Returns:
      "" when value is good, else a message that says why not.
    """
    addr, sep, length = value.partition("/")
    if not sep:
        return "%r is not an address with a prefix length: want e.g. 192.168.1.1/24" % value
    err = ip_error(addr)
    if err:
        return err
    top = 128 if ":" in addr else 32
    if not length or not _all_in(length, _DIGITS) or int(length) > top:
        return "%r: prefix length %r is not a number from 0 to %d" % (value, length, top)
    return ""

def ifname_error(value):
    """Returns why value is not a Linux network interface name, or "".

    Args:
      value: the string to check.

    Returns:
      "" when value is good, else a message that says why not.
    """
    if not value or len(value) > 15:
        return "%r is not an interface name: want 1 to 15 characters" % value
    for c in value.elems():
        if c not in _IFNAME_CHARS:
            return "%r is not an interface name: it contains %r (want letters, digits, _ . and - only)" % (value, c)
    if value in (".", ".."):
        return "%r is not an interface name" % value
    return ""

def service_name_error(value):
    """Returns why value cannot name an s6-rc service, or "".

    The same rule as svcsrc.CheckName (Go, userland/init/svcsrc), which
    the device applies; service_name_cases.bzl has the cases both are
    tested on.

    Args:
      value: the string to check.

    Returns:
      "" when value is good, else a message that says why not.
    """
    if not value or len(value) > 255:
        return "%r is not a service name: want 1 to 255 characters" % value
    if value.startswith("."):
        return "%r is not a service name: it starts with a dot" % value
    for c in value.elems():
        if c == "/" or c <= " " or c == "\177":
            return "%r is not a service name: it contains %r (no \"/\", whitespace or control characters)" % (value, c)
    return ""

def mac_error(value):
    """Returns why value is not a MAC address (52:54:00:12:34:56), or "".

    Args:
      value: the string to check.

    Returns:
      "" when value is good, else a message that says why not.
    """
    parts = value.split(":")
    if len(parts) != 6:
        return "%r is not a MAC address: want six colon-separated pairs of hex digits, e.g. 52:54:00:12:34:56" % value
    for p in parts:
        if len(p) != 2 or not _all_in(p, _HEX):
            return "%r is not a MAC address: %r is not a pair of hex digits" % (value, p)
    return ""

def ipv4_to_int(value):
    """Returns an IPv4 address as an integer: 192.168.8.1 is 3232237569.

    Args:
      value: an address that ipv4_error accepts.

    Returns:
      The address as a number from 0 to 2^32 - 1.
    """
    n = 0
    for p in value.split("."):
        n = n * 256 + int(p)
    return n

def int_to_ipv4(n):
    """Returns the dotted quad of an integer from 0 to 2^32 - 1 (ipv4_to_int's inverse).

    Args:
      n: the address as a number.

    Returns:
      The address, e.g. "192.168.8.1".
    """
    return ".".join([str((n // d) % 256) for d in (16777216, 65536, 256, 1)])

def ipv6_to_int(value):
    """Returns an IPv6 address as an integer (0 to 2^128 - 1), to compare addresses.

    Two spellings of one address ("fd00::1", "fd00:0::0:1") give one number.

    Args:
      value: an address that ipv6_error accepts.

    Returns:
      The address as a number.
    """
    head, _, tail = value.partition("::")
    halves = []
    for part in (head, tail):
        words = []
        for g in (part.split(":") if part else []):
            if "." in g:
                v4 = ipv4_to_int(g)
                words += [v4 // 65536, v4 % 65536]
            else:
                words.append(int(g, 16))
        halves.append(words)
    n = 0
    for w in halves[0] + [0] * (8 - len(halves[0]) - len(halves[1])) + halves[1]:
        n = n * 65536 + w
    return n

_PRINTABLE = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"

def first_unprintable(value):
    """The first character of value that is not printable ASCII, or None.

    A control character ends a line of the configuration files templates
    write (pppd's options, hostapd.conf); each template says so itself.

    Args:
      value: the string to check.

    Returns:
      The first character outside printable ASCII, or None if there is none.
    """
    for c in value.elems():
        if c not in _PRINTABLE:
            return c
    return None
