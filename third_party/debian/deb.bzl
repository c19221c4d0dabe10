"""deb_file: one file out of a pinned binary package (a .deb of @debian_sources)."""

def deb_file(name, deb, path, out, executable = False, **kwargs):
    """Extracts the file at path in deb's data to out (dpkg-deb, tar).

    Args:
      name: the target.
      deb: the package, e.g. "@debian_sources//:regdb".
      path: the file's path in the package, e.g. "usr/sbin/in.tftpd".
      out: the output file.
      executable: whether out is a program (mode 755).
      **kwargs: genrule's other attributes (visibility, ...).
    """
    native.genrule(
        name = name,
        srcs = [deb],
        outs = [out],
        cmd = "dpkg-deb --fsys-tarfile $< | tar -xO ./%s >$@%s" % (path, " && chmod 755 $@" if executable else ""),
        **kwargs
    )
