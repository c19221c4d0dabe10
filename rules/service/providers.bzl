"""Providers of the service rules, for other rule sets to load without
loading the rules (see defs.bzl)."""

load("//rules/service/private:providers.bzl", _ServiceDbInfo = "ServiceDbInfo", _ServiceInfo = "ServiceInfo")

ServiceInfo = _ServiceInfo
ServiceDbInfo = _ServiceDbInfo
