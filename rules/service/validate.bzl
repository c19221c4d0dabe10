"""Validators of option values for rules with typed attributes: each
returns why a value is invalid, or None (see defs.bzl)."""

load(
    "//rules/service/private:validate.bzl",
    _cidr_error = "cidr_error",
    _ifname_error = "ifname_error",
    _ip_error = "ip_error",
    _ipv4_error = "ipv4_error",
    _ipv6_error = "ipv6_error",
)

ipv4_error = _ipv4_error
ipv6_error = _ipv6_error
ip_error = _ip_error
cidr_error = _cidr_error
ifname_error = _ifname_error
