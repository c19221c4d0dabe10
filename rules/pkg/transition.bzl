"""platform_transition: build an attribute's targets for the platform named
by the rule's own `platform` attribute (the rule also needs the attribute
_allowlist_function_transition)."""

load("//rules/pkg/private:platform.bzl", _check_platform = "check_platform", _platform_transition = "platform_transition")

platform_transition = _platform_transition
check_platform = _check_platform
