"""Service names, good and bad: one list for both definitions of the rule.

service_name_error (Starlark, validate.bzl) checks names at analysis, where
templates write them into service directories and scripts;
svcsrc.CheckName (Go, userland/init/svcsrc) checks them when svc-compile
reads service directories and, on the device, when init decodes the
database. Both tests read this list (//rules/service/tests:validators_test
and the svcsrc package's TestNameCases), so the two cannot drift apart.
"""

# [name, good]. The rule: 1 to 255 bytes, no "/" and not starting with "."
# (s6-rc's rule), and no whitespace or control character (bytes up to " ",
# and DEL): names travel on init's control socket as space-separated words.
# Other punctuation is allowed, so templates quote the names they splice
# into shell.
SERVICE_NAME_CASES = [
    ["dnsmasq", True],
    ["wan-6to4", True],
    ["a.b", True],
    ["x@y", True],
    ["a", True],
    ["a..", True],
    ["caf\303\251", True],
    ["a;b", True],
    ["$(x)", True],
    # 255 bytes: the longest.
    ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", True],
    ["", False],
    # 256 bytes.
    ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", False],
    [".x", False],
    [".", False],
    ["..", False],
    ["a/b", False],
    ["/", False],
    ["a b", False],
    ["a\tb", False],
    ["a\nb", False],
    ["a\rb", False],
    ["a\000b", False],
    ["a\001b", False],
    ["a\037b", False],
    ["a\177b", False],
]
