"""A service template with typed options, as the tests' fixture."""

load("//rules/service:defs.bzl", "SERVICE_ATTRS", "cidr_error", "ifname_error", "write_service")

def _interface_address_impl(ctx):
    for attr, err in [
        ("interface", ifname_error(ctx.attr.interface)),
        ("address", cidr_error(ctx.attr.address)),
    ]:
        if err:
            fail("attribute %s: %s" % (attr, err))
    up = "ip address add %s dev %s\nip link set %s up\n" % (ctx.attr.address, ctx.attr.interface, ctx.attr.interface)
    down = "ip address del %s dev %s\n" % (ctx.attr.address, ctx.attr.interface)
    return write_service(ctx, "oneshot", {"up": up, "down": down}, ctx.attr.deps)

interface_address = rule(
    implementation = _interface_address_impl,
    doc = "Sets a static address on an interface (test fixture).",
    attrs = dict(SERVICE_ATTRS, **{
        "interface": attr.string(mandatory = True),
        "address": attr.string(mandatory = True, doc = "ADDRESS/PREFIXLEN"),
    }),
)
