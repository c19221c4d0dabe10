"""Analysis tests of the hostapd template."""

load("//rules/service/tests:service_tests.bzl", "failure_test")
load("//userland/hostapd:services.bzl", "hostapd")

def hostapd_failure_test(name, expected, **attrs):
    """A hostapd with one bad option and the test that its analysis fails.

    Args:
      name: the test's name; the access point is NAME_case.
      expected: what the error must say.
      **attrs: the bad option(s), over a good configuration.
    """
    good = dict(interface = "wlan0", ssid = "home", country = "DE", passphrase = "correct horse")
    good.update(attrs)
    hostapd(name = name + "_case", packages = [], tags = ["manual"], **good)
    failure_test(name = name, expected = expected, target_under_test = ":%s_case_config" % name)
