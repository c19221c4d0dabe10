"""Analysis tests of hostile values: each is refused, or lands quoted."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//rules/service/tests:service_tests.bzl", "failure_test")

# What the failure tests append to a good value: a second command, a
# command substitution, its older form, and a new line (a new command in a
# script, a new option in a configuration file). The command is harmless
# (see BUILD.bazel): a failing test's messages are printed by a shell.
PAYLOADS = {
    "semicolon": ";id",
    "subst": "$(id)",
    "backquote": "`id`",
    "newline": "\nid",
}

# A good service name (s6-rc's rule allows punctuation) that runs commands
# if a template splices it into shell unquoted.
HOSTILE_NAME = "x;id$(id)`id`"

def injection_failure_tests(name, template, attr, value, expected, shape = "string", key_value = None, target_suffix = "", packages = [], **good):
    """For each of PAYLOADS, a template with it after a good value of attr, and its failure_test.

    The templates are NAME_KIND (manual), the tests NAME_KIND_test, KIND
    each key of PAYLOADS.

    Args:
      name: the prefix of the targets' names.
      template: the rule or macro (e.g. interface_address).
      attr: the attribute under attack.
      value: a good value of it, which the payload follows.
      expected: what the analysis error must say (e.g. "attribute address:").
      shape: how attr holds the value: "string", "list" (one element) or
        "key" (a dict's key, with key_value as its value).
      key_value: for shape "key".
      target_suffix: of the target whose analysis fails (a macro's rule
        that checks the options, e.g. "_config").
      packages: the template's packages ([] keeps it analysable on the
        host); None for a rule without the attribute.
      **good: the template's other attributes, a good configuration.
    """
    for kind, payload in PAYLOADS.items():
        v = value + payload
        attrs = dict(good)
        if packages != None:
            attrs["packages"] = packages
        if shape == "list":
            attrs[attr] = [v]
        elif shape == "key":
            attrs[attr] = {v: key_value}
        else:
            attrs[attr] = v
        template(name = "%s_%s" % (name, kind), tags = ["manual"], **attrs)
        failure_test(
            name = "%s_%s_test" % (name, kind),
            expected = expected,
            target_under_test = ":%s_%s%s" % (name, kind, target_suffix),
        )

def _heredoc_escape(s):
    """s escaped for bazel-skylib's failure script, which prints it in an unquoted here-document."""
    return s.replace("\\", "\\\\").replace("$", "\\$").replace("`", "\\`")

def _safe_chars(script):
    """For each character of a shell script: whether the shell takes it literally.

    True inside single quotes and in comments; False elsewhere, double
    quotes included (where $(...) and `...` still run).
    """
    safe = []
    state = ""  # "'", "\"" or "#" while inside one
    escaped = False
    prev = "\n"
    for c in script.elems():
        if state == "'":
            safe.append(c != "'")
            if c == "'":
                state = ""
        elif state == "#":
            safe.append(c != "\n")
            if c == "\n":
                state = ""
        elif escaped:
            escaped = False
            safe.append(False)
        elif c == "\\":
            escaped = True
            safe.append(False)
        elif state == "\"":
            if c == "\"":
                state = ""
            safe.append(False)
        elif c in "'\"":
            state = c
            safe.append(False)
        elif c == "#" and prev in " \t\n;&|(":
            state = "#"
            safe.append(True)
        else:
            safe.append(False)
        prev = c
    return safe

def _unwrap_execline_sh(script, name):
    """The shell script in a oneshot's up or down, or None when it is not one.

    write_service writes them as the execline `/bin/sh -c "SCRIPT" NAME`,
    SCRIPT's backslashes and double quotes escaped with a backslash (see
    execline_sh in rules/service/private/service.bzl). An escaped
    character is taken literally; any other (unescaped) double quote would
    end the string early and is an error.
    """
    head, tail = '/bin/sh -c "', '" %s\n' % name
    if not (script.startswith(head) and script.endswith(tail)):
        return None
    out = []
    escaped = False
    for c in script[len(head):len(script) - len(tail)].elems():
        if escaped:
            out.append(c)
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == '"':
            return None
        else:
            out.append(c)
    return None if escaped else "".join(out)

def _quoted_test_impl(ctx):
    env = analysistest.begin(ctx)
    needle = ctx.attr.value
    found = 0
    for a in analysistest.target_actions(env):
        if a.mnemonic != "FileWrite":
            continue
        for o in a.outputs.to_list():
            if o.basename not in ctx.attr.scripts:
                continue
            script = a.content
            if o.basename in ("up", "down"):
                # A oneshot's: execline that runs the shell script.
                sh = _unwrap_execline_sh(script, o.basename)
                asserts.true(env, sh != None, _heredoc_escape("%s is not the execline /bin/sh -c \"...\" %s:\n%s" % (o.short_path, o.basename, script)))
                script = sh or ""
            safe = _safe_chars(script)
            i = script.find(needle)
            for _ in range(len(script)):
                if i < 0:
                    break
                found += 1
                asserts.true(
                    env,
                    all(safe[i:i + len(needle)]),
                    _heredoc_escape("%s: %r at offset %d is not inside single quotes:\n%s" % (o.short_path, needle, i, script)),
                )
                i = script.find(needle, i + 1)
    asserts.true(env, found > 0, _heredoc_escape("%r is in none of the scripts %s" % (needle, ctx.attr.scripts)))
    return analysistest.end(env)

# The target's scripts hold value, and only inside single quotes (or in
# comments): the shell runs nothing of it.
quoted_test = analysistest.make(
    _quoted_test_impl,
    attrs = {
        "value": attr.string(mandatory = True, doc = "The hostile value the target was given."),
        "scripts": attr.string_list(default = ["run", "up", "down", "finish"], doc = "Basenames of the scripts to check."),
    },
)

def _keys_test_impl(ctx):
    env = analysistest.begin(ctx)
    argv = []
    for a in analysistest.target_actions(env):
        if a.mnemonic == "SshKeys":
            argv = a.argv
    heads = [i for i, arg in enumerate(argv) if arg.endswith("<<'KEYS'\n")]
    asserts.equals(env, 1, len(heads), _heredoc_escape("arguments ending in a quoted here-document's start, in %s" % argv))
    if len(heads) == 1 and len(argv) > heads[0] + 2:
        # The action writes HEAD, the keys, then TAIL: the keys are the
        # here-document's body.
        tail, keys = argv[heads[0] + 1], argv[heads[0] + 2]
        asserts.true(env, tail.startswith("KEYS\n"), _heredoc_escape("the tail %r does not end the here-document" % tail))
        asserts.true(env, keys == "".join([k + "\n" for k in ctx.attr.keys]), _heredoc_escape("the here-document's body %r is not the keys %r" % (keys, ctx.attr.keys)))
        asserts.false(env, "KEYS" in keys.split("\n"), "a key line ends the here-document")
    return analysistest.end(env)

# An ssh_server's keys: in its run script as the body of a quoted
# here-document (<<'KEYS'), which the shell does not expand.
keys_test = analysistest.make(
    _keys_test_impl,
    attrs = {"keys": attr.string_list(mandatory = True, doc = "The authorized_keys the target was given.")},
)
