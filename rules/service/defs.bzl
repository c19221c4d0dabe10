"""Services in Starlark: s6-rc longruns, oneshots and bundles with typed options.

    load("//rules/service:defs.bzl", "longrun", "oneshot", "service_db")

    oneshot(
        name = "loopback",
        up = "ip link set lo up",
    )

    longrun(
        name = "syslogd",
        run = "exec syslogd -n",
        deps = [":loopback"],
    )

    service_db(
        name = "services",
        services = [":syslogd"],
    )

Each rule writes the service's s6-rc source directory; service_db compiles
the transitive closure with //tools:svc-compile into the database that the
device's init reads. Bad configuration fails when Bazel analyses the target,
naming it and the attribute. The validators (`ipv4_error`, `cidr_error`, ...)
are for service templates with typed options of their own.
"""

load("//rules/service/private:providers.bzl", _InterfaceInfo = "InterfaceInfo", _ServiceDbInfo = "ServiceDbInfo", _ServiceInfo = "ServiceInfo")
load(
    "//rules/service/private:service.bzl",
    _SERVICE_ATTRS = "SERVICE_ATTRS",
    _bundle = "bundle",
    _longrun = "longrun",
    _oneshot = "oneshot",
    _publish_ifname = "publish_ifname",
    _service_db = "service_db",
    _shell_quote = "shell_quote",
    _template_service_name = "template_service_name",
    _write_service = "write_service",
)
load(
    "//rules/service/private:validate.bzl",
    _cidr_error = "cidr_error",
    _first_unprintable = "first_unprintable",
    _ifname_error = "ifname_error",
    _int_to_ipv4 = "int_to_ipv4",
    _ip_error = "ip_error",
    _ipv4_error = "ipv4_error",
    _ipv4_to_int = "ipv4_to_int",
    _ipv6_error = "ipv6_error",
    _ipv6_to_int = "ipv6_to_int",
    _mac_error = "mac_error",
    _service_name_error = "service_name_error",
)

ServiceInfo = _ServiceInfo
ServiceDbInfo = _ServiceDbInfo
InterfaceInfo = _InterfaceInfo
longrun = _longrun
oneshot = _oneshot
bundle = _bundle
service_db = _service_db

# For service templates: rules with typed options of their own that write a
# service. SERVICE_ATTRS are the attributes every service has (service_name,
# kernel_fragments, packages, deps); write_service(ctx, type, files, deps)
# writes the source directory ({path in the service dir: content}) and
# returns the providers. A template whose service owns a network interface
# returns InterfaceInfo too, and writes the interface's name to
# $OUTPUTS/ifname at run time (publish_ifname gives the shell for it);
# shell_quote quotes any value spliced into a script.
SERVICE_ATTRS = _SERVICE_ATTRS
write_service = _write_service

publish_ifname = _publish_ifname
shell_quote = _shell_quote

# The checked device name of a template macro's service, for the rules the
# macro makes beside it (attributes `service` and `service_name`).
template_service_name = _template_service_name
ipv4_error = _ipv4_error
ipv6_error = _ipv6_error
ip_error = _ip_error
cidr_error = _cidr_error
ifname_error = _ifname_error
first_unprintable = _first_unprintable
mac_error = _mac_error
service_name_error = _service_name_error

# Address arithmetic for templates that check ranges and subnets (values
# already checked by ipv4_error / ipv6_error).
ipv4_to_int = _ipv4_to_int
int_to_ipv4 = _int_to_ipv4
ipv6_to_int = _ipv6_to_int
