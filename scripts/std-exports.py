#!/usr/bin/env python3
"""Writes testkit/src/metamorph/rust/std_exports.rs: what each module of the standard library
exports (what a glob import of it brings into scope), and the variants of its enums, read from
the documentation that rustup installs with the toolchain (`rust-docs`). The `glob-std` rewrite
checks with it that a glob import makes no name ambiguous and shadows nothing of the prelude.

Run it from the repository's root after a toolchain update: python3 scripts/std-exports.py
"""
import json
import os
import re
import subprocess

# Modules nobody globs in a program the rewriter sees: platform, unstable internals, numbers.
SKIP = {"arch", "intrinsics", "os", "simd", "prelude", "primitive", "f16", "f128", "autodiff",
        "pat", "unsafe_binder", "bstr", "random", "from", "range", "async_iter", "assert_matches"}
SKIP |= {name for name in ("i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize f32 f64").split()}

sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True,
                         check=True).stdout.strip()
version = subprocess.run(["rustc", "--version"], capture_output=True, text=True,
                         check=True).stdout.split()[1]
root = os.path.join(sysroot, "share/doc/rust/html/std")
exports = {}
for dirpath, _, files in os.walk(root):
    relative = os.path.relpath(dirpath, root)
    if relative == "." or relative.split(os.sep)[0] in SKIP:
        continue
    for name in files:
        if not (name.startswith("sidebar-items") and name.endswith(".js")):
            continue
        module = "std::" + relative.replace(os.sep, "::")
        text = open(os.path.join(dirpath, name)).read()
        data = json.loads(text[text.index("{"):text.rindex("}") + 1])
        exports[module] = sorted({item for kind, items in data.items()
                                  if kind not in ("keyword", "primitive") for item in items})
        for enum in data.get("enum", []):
            page = os.path.join(dirpath, "enum.%s.html" % enum)
            if os.path.exists(page):
                variants = re.findall(r'id="variant\.([A-Za-z0-9_]+)"', open(page).read())
                exports[module + "::" + enum] = sorted(set(variants))

lines = [
    "//! What each module of the standard library exports (what a glob import of it brings into",
    "//! scope, unstable items included, since they take part in name resolution too), and the",
    "//! variants of its enums. Written by `scripts/std-exports.py` from the documentation of",
    "//! Rust %s; do not edit by hand." % version,
    "",
    "/// `(module or enum path, exported names)`, sorted by path.",
    "#[rustfmt::skip]",
    "pub(crate) const STD_EXPORTS: &[(&str, &[&str])] = &[",
]
for module in sorted(exports):
    names = ", ".join('"%s"' % name for name in exports[module])
    lines.append('    ("%s", &[%s]),' % (module, names))
lines.append("];")
out = os.path.join(os.path.dirname(__file__), "../testkit/src/metamorph/rust/std_exports.rs")
with open(out, "w") as handle:
    handle.write("\n".join(lines) + "\n")
