#!/usr/bin/env python3
"""Writes testkit/src/metamorph/rust/library_methods.rs: the names of the methods of the
library types and traits that programs call methods on (standard library collections, locks,
guards, smart pointers, cells, atomics, threads, channels, iterators, futures, and the public
methods of tokio, dashmap, parking_lot, lock_api and scopeguard). The `rename` rewrite never
renames a method of the program that has one of these names, since a call `m.insert(..)` on a
`HashMap` must keep its name.

The standard library's are read from the documentation that rustup installs with the toolchain
(`rust-docs`), the other crates' from their sources in cargo's registry. Run it from the
repository's root: python3 scripts/library-methods.py
"""
import glob
import os
import re
import subprocess

sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True,
                         check=True).stdout.strip()
docs = os.path.join(sysroot, "share/doc/rust/html/std")
pages = [
    "collections/struct.HashMap.html", "collections/struct.BTreeMap.html",
    "collections/struct.HashSet.html", "collections/struct.BTreeSet.html",
    "collections/struct.VecDeque.html", "collections/hash_map/enum.Entry.html",
    "collections/hash_map/struct.OccupiedEntry.html", "collections/hash_map/struct.VacantEntry.html",
    "collections/btree_map/enum.Entry.html", "vec/struct.Vec.html", "string/struct.String.html",
    "primitive.str.html", "primitive.slice.html", "option/enum.Option.html",
    "result/enum.Result.html", "iter/trait.Iterator.html", "iter/trait.DoubleEndedIterator.html",
    "iter/trait.IntoIterator.html", "iter/trait.Extend.html", "iter/trait.FromIterator.html",
    "sync/struct.Mutex.html", "sync/struct.MutexGuard.html", "sync/struct.RwLock.html",
    "sync/struct.RwLockReadGuard.html", "sync/struct.RwLockWriteGuard.html",
    "sync/struct.Arc.html", "sync/struct.Weak.html", "sync/struct.Condvar.html",
    "sync/struct.Barrier.html", "sync/struct.OnceLock.html", "sync/struct.LazyLock.html",
    "sync/struct.PoisonError.html", "sync/enum.TryLockError.html",
    "sync/atomic/struct.AtomicUsize.html", "sync/atomic/struct.AtomicBool.html",
    "sync/atomic/struct.AtomicU64.html", "sync/mpsc/struct.Sender.html",
    "sync/mpsc/struct.Receiver.html", "sync/mpsc/struct.SyncSender.html",
    "rc/struct.Rc.html", "rc/struct.Weak.html", "cell/struct.RefCell.html",
    "cell/struct.Ref.html", "cell/struct.RefMut.html", "cell/struct.Cell.html",
    "cell/struct.UnsafeCell.html", "cell/struct.OnceCell.html", "boxed/struct.Box.html",
    "pin/struct.Pin.html", "thread/struct.JoinHandle.html", "thread/struct.Thread.html",
    "thread/struct.Builder.html", "thread/struct.Scope.html",
    "thread/struct.ScopedJoinHandle.html", "thread/struct.LocalKey.html",
    "time/struct.Instant.html", "time/struct.Duration.html", "process/struct.Command.html",
    "process/struct.Child.html", "process/struct.ExitCode.html",
    "process/struct.ExitStatus.html", "fmt/struct.Formatter.html", "fmt/trait.Debug.html",
    "fmt/trait.Display.html", "fmt/trait.Write.html", "io/trait.Write.html", "io/trait.Read.html",
    "clone/trait.Clone.html", "default/trait.Default.html", "ops/trait.Drop.html",
    "ops/trait.Deref.html", "ops/trait.DerefMut.html", "ops/trait.Index.html",
    "ops/trait.IndexMut.html", "ops/trait.Fn.html", "ops/trait.FnMut.html",
    "ops/trait.FnOnce.html", "ops/trait.Add.html", "ops/trait.AddAssign.html",
    "cmp/trait.PartialEq.html", "cmp/trait.PartialOrd.html", "cmp/trait.Ord.html",
    "hash/trait.Hash.html", "hash/trait.Hasher.html", "convert/trait.From.html",
    "convert/trait.Into.html", "convert/trait.AsRef.html", "convert/trait.AsMut.html",
    "convert/trait.TryFrom.html", "convert/trait.TryInto.html", "borrow/trait.Borrow.html",
    "borrow/trait.ToOwned.html", "string/trait.ToString.html", "future/trait.Future.html",
    "future/trait.IntoFuture.html", "task/struct.Context.html", "task/struct.Waker.html",
    "task/enum.Poll.html", "error/trait.Error.html", "any/trait.Any.html",
    "primitive.u64.html", "primitive.usize.html", "primitive.u32.html", "primitive.u8.html",
    "primitive.i64.html", "primitive.bool.html", "primitive.char.html",
]
names = set()
for page in pages:
    text = open(os.path.join(docs, page)).read()
    names.update(re.findall(r'id="(?:method|tymethod)\.([a-z_][a-z0-9_]*)"', text))

registry = glob.glob(os.path.expanduser("~/.cargo/registry/src/*/"))
# Where each crate's public types the programs use are (tokio's own internals are left out).
crates = {
    "tokio-1.*": ["src/sync/**/*.rs", "src/task/**/*.rs", "src/time/**/*.rs",
                  "src/runtime/handle.rs", "src/runtime/runtime.rs", "src/runtime/builder.rs",
                  "src/runtime/task/join.rs", "src/runtime/task/abort.rs"],
    "dashmap-6.*": ["src/**/*.rs"],
    "parking_lot-0.12.*": ["src/**/*.rs"],
    "lock_api-0.4.*": ["src/**/*.rs"],
    "scopeguard-1.*": ["src/**/*.rs"],
}
for pattern, sources in crates.items():
    for folder in registry:
        for crate in sorted(glob.glob(os.path.join(folder, pattern)))[-1:]:
            paths = [path for source in sources
                     for path in glob.glob(os.path.join(crate, source), recursive=True)]
            for path in paths:
                text = open(path, errors="replace").read()
                names.update(re.findall(
                    r'\bpub\s+(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+([a-z_][a-z0-9_]*)', text))

lines = [
    "//! The names of the methods of the library types and traits that programs call methods on:",
    "//! a method of the program with one of these names keeps it under `rename`, since calls",
    "//! of the library's method look the same. Written by `scripts/library-methods.py` from the",
    "//! standard library's documentation and the sources of tokio, dashmap, parking_lot,",
    "//! lock_api and scopeguard; do not edit by hand.",
    "",
    "/// Sorted.",
    "#[rustfmt::skip]",
    "pub(crate) const LIBRARY_METHODS: &[&str] = &[",
]
row = "   "
for name in sorted(names):
    item = ' "%s",' % name
    if len(row) + len(item) > 99:
        lines.append(row)
        row = "   "
    row += item
lines.append(row)
lines.append("];")
out = os.path.join(os.path.dirname(__file__), "../testkit/src/metamorph/rust/library_methods.rs")
with open(out, "w") as handle:
    handle.write("\n".join(lines) + "\n")
print(len(names))
