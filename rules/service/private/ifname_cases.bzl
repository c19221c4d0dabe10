"""Interface names, good and bad: one list for both definitions of the rule.

ifname_error (Starlark, validate.bzl) checks names at analysis, where
templates splice them into shell scripts; ruleset.IfnameError (Go,
userland/firewall/ruleset) checks them in rulesets and, on the device, in
the names services publish. Both tests read this list
(//rules/service/tests:validators_test and the ruleset package's
TestIfnameCases), so the two cannot drift apart.
"""

# [name, good]. The rule: 1 to 15 bytes of letters, digits, "_", "." and
# "-", and not "." or "..": what Linux allows (at most IFNAMSIZ - 1 bytes)
# without what a shell, a path or nft's syntax gives meaning to.
IFNAME_CASES = [
    ["eth0", True],
    ["br-lan", True],
    ["eth0.2", True],
    ["wlan0_1", True],
    ["ppp0", True],
    ["a", True],
    ["ABCDEFGHIJKLMNO", True],
    ["lan-1.100", True],
    ["", False],
    ["ABCDEFGHIJKLMNOP", False],
    [".", False],
    ["..", False],
    ["eth0;reboot", False],
    ["eth 0", False],
    ["eth0/1", False],
    ["eth:0", False],
    ["$(reboot)", False],
    ["`id`", False],
    ["a'b", False],
    ["a\"b", False],
    ["a\\b", False],
    ["eth0\n", False],
    ["eth*", False],
    ["eth0|x", False],
    ["caf\303\251", False],
]
