"""Analysis tests of the dhcp6_client template."""

load("//rules/service/tests:service_tests.bzl", "failure_test")
load("//userland/wide-dhcpv6:services.bzl", "dhcp6_client")

def dhcp6_client_failure_test(name, expected, **attrs):
    """A dhcp6_client with one bad option and the test that its analysis fails.

    Args:
      name: the test's name; the client is NAME_case.
      expected: what the error must say.
      **attrs: the bad option(s), over a good configuration.
    """
    good = dict(wan = ":wan", lan = [":lan"], duid_interface = "eth0")
    good.update(attrs)
    dhcp6_client(name = name + "_case", packages = [], tags = ["manual"], **good)
    failure_test(name = name, expected = expected, target_under_test = ":%s_case_files" % name)
