//! Go packages without `main`: what their exported API promises callers outside the package.

mod support;

use support::{TempTree, deferlint};

/// A method named `…Locked` says, by Go's convention, that its caller holds the lock: callers
/// outside the package are taken to call it as the package's own callers do. When every caller
/// in the package holds the mutex (here through a `LockShares` wrapper), the unlocked write in
/// it does not race the read that `ServeHTTP` makes under the read lock; when one caller in the
/// package forgets the lock, it does.
#[test]
fn a_method_named_locked_is_called_with_the_lock_its_callers_hold() {
    let server = |extra: &str| {
        format!(
            "package drive\n\nimport (\n\t\"net\"\n\t\"net/http\"\n\t\"sync\"\n)\n\ntype FileServer struct {{\n\tln       net.Listener\n\tsharesMu sync.RWMutex\n\tshares   map[string]string\n}}\n\nfunc NewFileServer(ln net.Listener) *FileServer {{\n\treturn &FileServer{{ln: ln, shares: map[string]string{{}}}}\n}}\n\nfunc (s *FileServer) Serve() error {{ return http.Serve(s.ln, s) }}\n\nfunc (s *FileServer) LockShares()   {{ s.sharesMu.Lock() }}\nfunc (s *FileServer) UnlockShares() {{ s.sharesMu.Unlock() }}\n\nfunc (s *FileServer) AddShareLocked(name, path string) {{\n\ts.shares[name] = path\n}}\n\nfunc (s *FileServer) SetShares(shares map[string]string) {{\n\ts.LockShares()\n\tdefer s.UnlockShares()\n\tfor name, path := range shares {{\n\t\ts.AddShareLocked(name, path)\n\t}}\n}}\n{extra}\nfunc (s *FileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {{\n\ts.sharesMu.RLock()\n\t_, ok := s.shares[r.URL.Path]\n\ts.sharesMu.RUnlock()\n\tif !ok {{\n\t\tw.WriteHeader(http.StatusNotFound)\n\t}}\n}}\n"
        )
    };
    for (extra, expected) in [
        ("", 0),
        (
            "\nfunc (s *FileServer) AddShare(name, path string) {\n\ts.AddShareLocked(name, path)\n}\n",
            1,
        ),
    ] {
        let text = server(extra);
        let tree = TempTree::new(&[("drive/fileserver.go", text.as_bytes())]);
        let run = deferlint(tree.root(), &["drive"]);
        assert_eq!(run.code, expected, "{extra}: {run:#?}");
    }
}
