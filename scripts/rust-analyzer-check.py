#!/usr/bin/env python3
"""End-to-end check: a real rust-analyzer runs deferlint as its check command.

What it does
    1. Creates a temporary cargo package whose `src/lib.rs` has a `Drop` that unwraps the lock
       of an `Arc<Mutex<HashMap<..>>>` shared with `std::thread::spawn`, and checks first that
       `deferlint --message-format=json` reports `poisoned-lock-unwrap-in-defer` there with a
       machine-applicable `suggested_replacement` in a child.
    2. Starts rust-analyzer over stdio (LSP, JSON-RPC with Content-Length framing) with
       `check.command = "deferlint"` and `checkOnSave = true` (in `initializationOptions` and in
       the answers to `workspace/configuration`), with the file in its fixed form (no finding),
       opens it, waits for the workspace to load and for the check rust-analyzer runs then.
       Then it edits the file to the form with the finding and saves it (`textDocument/didChange`,
       the file written, `textDocument/didSave`: flycheck runs on save), as a user would.
    3. Waits for a `textDocument/publishDiagnostics`, sent after the save, carrying the deferlint
       finding (rust-analyzer splits the code `deferlint::RULE` into `source` "deferlint" and
       `code` "RULE").
    4. Asks for `textDocument/codeAction` on the diagnostic's range and checks that a quick fix
       replaces `unwrap()` with the suggested text; applies it, saves again and checks that the
       finding is gone.
    5. Shuts rust-analyzer down. Exit 0 on success, 1 on a failed check or a timeout, 2 on a
       usage error. Every step is printed with its time.

`cargo-deferlint` is run through a logging wrapper put first on PATH, so the output shows the
exact command line rust-analyzer gave it (and its exit status).

Usage (from the repository root, after `cargo build --release`):

    python3 scripts/rust-analyzer-check.py [--rust-analyzer PATH] [--deferlint-dir DIR]
                                           [--timeout SECONDS] [--plain] [--settings JSON]
                                           [--legacy-settings] [--keep] [--verbose]

    --rust-analyzer   the rust-analyzer binary; env RUST_ANALYZER; default `rust-analyzer` on
                      PATH (with rustup: `rustup component add rust-analyzer`)
    --deferlint-dir   the folder holding the `deferlint` and `cargo-deferlint` binaries; env
                      DEFERLINT_DIR; default `target/release` (a relative folder is taken from
                      the current folder if it is there, else from this repository's root)
    --timeout         seconds to wait for each step (rust-analyzer loads the sysroot first);
                      env RA_CHECK_TIMEOUT; default 300
    --plain           do not claim VS Code's `colorDiagnosticOutput` capability: rust-analyzer
                      then passes `--message-format=json` (as with Neovim and most other
                      clients) instead of `--message-format=json-diagnostic-rendered-ansi`
    --settings        JSON merged into the rust-analyzer settings sent, e.g.
                      '{"check": {"workspace": false}}' (check per package: `-p PACKAGE_ID`)
    --legacy-settings send `checkOnSave = {enable, command}` instead, for rust-analyzer
                      releases from before the `check.*` settings (late 2022)
    --keep            keep the temporary workspace (its path is printed)
    --verbose         print every LSP message exchanged, and rust-analyzer's stderr at the end

Not run in CI: it needs a rust-analyzer binary. Standard library only (Python 3.8+).
"""

import argparse
import json
import os
import queue
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

RULE = "poisoned-lock-unwrap-in-defer"
SUGGESTION = "unwrap_or_else(std::sync::PoisonError::into_inner)"

CARGO_TOML = """\
[package]
name = "ra-deferlint-check"
version = "0.1.0"
edition = "2021"

[dependencies]

[workspace]
"""

# The shape of fixtures/poisoned-lock-unwrap-in-defer/drop_unwraps_lock_shared_with_spawned_thread.rs,
# as a library.
LIB_RS = """\
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;

type Registry = Arc<Mutex<HashMap<u64, u16>>>;

pub struct Registration {
    id: u64,
    registry: Registry,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().unwrap().remove(&self.id);
    }
}

pub fn register_in_worker(registry: Registry) -> thread::JoinHandle<()> {
    let worker_registry = Arc::clone(&registry);
    thread::spawn(move || {
        let _registration = Registration {
            id: 7,
            registry: Arc::clone(&worker_registry),
        };
        worker_registry.lock().unwrap().insert(7, 80);
    })
}
"""

# The file as the quick fix leaves it; the session starts from it.
FIXED_RS = LIB_RS.replace("lock().unwrap()", f"lock().{SUGGESTION}", 1)

WRAPPER = """\
#!/bin/sh
# Logs how cargo-deferlint is invoked, then runs the real one.
{{
  printf 'argv:'
  for arg in "$0" "$@"; do printf " '%s'" "$arg"; done
  printf '\\ncwd: %s\\nenv: RUSTUP_TOOLCHAIN=%s CARGO_LOG=%s CARGO_TARGET_DIR=%s\\n' \\
    "$PWD" "${{RUSTUP_TOOLCHAIN-}}" "${{CARGO_LOG-}}" "${{CARGO_TARGET_DIR-}}"
}} >> {log}
{real} "$@"
status=$?
printf 'exit: %s\\n' "$status" >> {log}
exit "$status"
"""

START = time.monotonic()


def say(message):
    print(f"[{time.monotonic() - START:7.1f}s] {message}", flush=True)


class CheckFailed(Exception):
    pass


def file_uri(path):
    return "file://" + quote(str(path))


def uri_path(uri):
    return Path(unquote(urlparse(uri).path))


class Lsp:
    """A minimal LSP client: a reader thread queues the server's messages; requests from the
    server are answered as they are read, so that rust-analyzer never waits on us."""

    def __init__(self, argv, env, cwd, stderr_file, config, verbose):
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            env=env,
            cwd=cwd,
        )
        self.config = config
        self.verbose = verbose
        self.next_id = 0
        self.write_lock = threading.Lock()
        self.inbox = queue.Queue()
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()

    # -- framing ---------------------------------------------------------------------------

    def _send(self, message):
        message["jsonrpc"] = "2.0"
        body = json.dumps(message).encode("utf-8")
        if self.verbose:
            say(f"--> {body.decode('utf-8')[:2000]}")
        with self.write_lock:
            try:
                self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError) as error:
                raise CheckFailed(f"rust-analyzer closed its input: {error}") from error

    def _read_loop(self):
        stream = self.proc.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    self.inbox.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value.strip())
            if length is None:
                continue
            body = stream.read(length)
            message = json.loads(body)
            if self.verbose:
                say(f"<-- {body.decode('utf-8')[:2000]}")
            if "method" in message and "id" in message:
                self._answer(message)
            self.inbox.put(message)

    def _answer(self, request):
        method = request["method"]
        if method == "workspace/configuration":
            result = [
                self.config if item.get("section") in ("rust-analyzer", None) else None
                for item in request["params"]["items"]
            ]
        elif method == "workspace/applyEdit":
            result = {"applied": False}
        else:
            # window/workDoneProgress/create, client/registerCapability, */refresh, ...
            result = None
        self._send({"id": request["id"], "result": result})

    # -- requests and notifications --------------------------------------------------------

    def notify(self, method, params):
        self._send({"method": method, "params": params})

    def request(self, method, params):
        self.next_id += 1
        self._send({"id": self.next_id, "method": method, "params": params})
        return self.next_id

    def next_message(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout"
        try:
            message = self.inbox.get(timeout=min(remaining, 1.0))
        except queue.Empty:
            return "idle"
        if message is None:
            raise CheckFailed(f"rust-analyzer exited (status {self.proc.wait()})")
        return message


class Client:
    """Tracks what rust-analyzer reported: diagnostics per file, flycheck progress, health."""

    def __init__(self, lsp, timeout):
        self.lsp = lsp
        self.timeout = timeout
        self.diagnostics = {}  # path -> (time received, list of diagnostics)
        self.quiescent = False
        self.flycheck_runs = []  # [title, begin time, end time or None]
        self.responses = {}
        self.messages = []

    def pump(self, deadline):
        message = self.lsp.next_message(deadline)
        if message in ("timeout", "idle"):
            return message
        method = message.get("method")
        params = message.get("params") or {}
        now = time.monotonic()
        if method is None:
            self.responses[message["id"]] = message
        elif method == "textDocument/publishDiagnostics":
            self.diagnostics[uri_path(params["uri"])] = (now, params["diagnostics"])
        elif method == "experimental/serverStatus":
            self.quiescent = params.get("quiescent", False)
            if params.get("message"):
                say(f"rust-analyzer status ({params.get('health')}): {params['message'].strip()}")
        elif method == "$/progress" and "flycheck" in str(params.get("token")):
            value = params.get("value", {})
            if value.get("kind") == "begin":
                self.flycheck_runs.append([value.get("title"), now, None])
                say(f"flycheck started: {value.get('title')}")
            elif value.get("kind") == "end" and self.flycheck_runs:
                self.flycheck_runs[-1][2] = now
                end = value.get("message")
                say("flycheck finished" + (f": {end}" if end else ""))
        elif method in ("window/showMessage", "window/logMessage"):
            text = params.get("message", "")
            self.messages.append(text)
            if params.get("type", 4) <= 2:  # error or warning
                say(f"rust-analyzer says: {text.strip()[:500]}")
        return message

    def wait_for(self, what, condition):
        deadline = time.monotonic() + self.timeout
        while True:
            result = condition()
            if result:
                return result
            if self.pump(deadline) == "timeout":
                raise CheckFailed(f"timed out after {self.timeout:.0f}s waiting for {what}")

    def call(self, method, params):
        request_id = self.lsp.request(method, params)
        response = self.wait_for(f"the answer to {method}", lambda: self.responses.get(request_id))
        if "error" in response:
            raise CheckFailed(f"{method} failed: {response['error']}")
        return response.get("result")

    def flycheck_done_since(self, moment):
        return any(begin >= moment and end is not None for _, begin, end in self.flycheck_runs)

    def give_up_after_check(self, moment, what, grace=10.0):
        """Fails once a check started after `moment` has been over for `grace` seconds."""
        ends = [end for _, begin, end in self.flycheck_runs if begin >= moment and end is not None]
        if ends and time.monotonic() > ends[-1] + grace:
            current = [
                f"{d.get('source')}[{code_of(d)}] line {d['range']['start']['line'] + 1}: {d['message'][:100]}"
                for diagnostics in [v[1] for v in self.diagnostics.values()]
                for d in diagnostics
            ]
            raise CheckFailed(
                f"the check run after the save ended {grace:.0f}s ago without {what};"
                f" diagnostics now: {current or 'none'}"
            )


def code_of(diagnostic):
    code = diagnostic.get("code")
    return code.get("value") if isinstance(code, dict) else code


def is_deferlint_finding(diagnostic):
    return code_of(diagnostic) in (RULE, f"deferlint::{RULE}")


def text_in_range(text, lsp_range):
    """The text an LSP range covers (the file is ASCII, so UTF-16 columns are byte columns)."""
    lines = text.splitlines(keepends=True)

    def offset(position):
        return sum(len(line) for line in lines[: position["line"]]) + position["character"]

    return text[offset(lsp_range["start"]) : offset(lsp_range["end"])], offset


def apply_edits(text, edits):
    _, offset = text_in_range(text, edits[0]["range"])
    spans = sorted(
        ((offset(edit["range"]["start"]), offset(edit["range"]["end"]), edit["newText"]) for edit in edits),
        reverse=True,
    )
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


def edits_for(action, uri, path):
    edit = action.get("edit") or {}
    edits = []
    for key, value in (edit.get("changes") or {}).items():
        if key == uri or uri_path(key) == path:
            edits.extend(value)
    for change in edit.get("documentChanges") or []:
        document = change.get("textDocument", {}).get("uri")
        if document and (document == uri or uri_path(document) == path):
            edits.extend(change.get("edits", []))
    return edits


def precheck(deferlint, workspace):
    """deferlint itself reports the finding, with the edit in a child."""
    output = subprocess.run(
        [str(deferlint), "--message-format=json", str(workspace)],
        capture_output=True,
        text=True,
        check=False,
    )
    if output.returncode not in (0, 1):
        raise CheckFailed(f"deferlint exited with {output.returncode}: {output.stderr.strip()}")
    for line in output.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") != "compiler-message":
            continue
        diagnostic = message["message"]
        if (diagnostic.get("code") or {}).get("code", "").split("::")[-1] != RULE:
            continue
        for child in diagnostic.get("children", []):
            for span in child.get("spans", []):
                if span.get("suggested_replacement") == SUGGESTION:
                    return diagnostic, span
    raise CheckFailed(
        f"deferlint did not report {RULE} with the suggestion `{SUGGESTION}` on the test"
        f" workspace:\n{output.stdout}{output.stderr}"
    )


def initialize_params(workspace, config, color):
    return {
        "processId": os.getpid(),
        "clientInfo": {"name": "deferlint-ra-check", "version": "1"},
        "rootUri": file_uri(workspace),
        "workspaceFolders": [{"uri": file_uri(workspace), "name": workspace.name}],
        "initializationOptions": config,
        "capabilities": {
            "general": {"positionEncodings": ["utf-16"]},
            "window": {"workDoneProgress": True, "showMessage": {}},
            "workspace": {
                "configuration": True,
                "workspaceFolders": True,
                "applyEdit": False,
                "workspaceEdit": {"documentChanges": True},
                "didChangeConfiguration": {"dynamicRegistration": True},
                "didChangeWatchedFiles": {"dynamicRegistration": True},
            },
            "textDocument": {
                "synchronization": {"didSave": True, "dynamicRegistration": True},
                "publishDiagnostics": {
                    "relatedInformation": True,
                    "versionSupport": False,
                    "codeDescriptionSupport": True,
                    "dataSupport": True,
                    "tagSupport": {"valueSet": [1, 2]},
                },
                "codeAction": {
                    "dynamicRegistration": False,
                    "isPreferredSupport": True,
                    "dataSupport": True,
                    "resolveSupport": {"properties": ["edit"]},
                    "codeActionLiteralSupport": {
                        "codeActionKind": {
                            "valueSet": [
                                "",
                                "quickfix",
                                "refactor",
                                "refactor.extract",
                                "refactor.inline",
                                "refactor.rewrite",
                                "source",
                                "source.organizeImports",
                            ]
                        }
                    },
                },
            },
            # VS Code's client claims colorDiagnosticOutput; rust-analyzer then asks the check
            # command for `--message-format=json-diagnostic-rendered-ansi`.
            "experimental": {"serverStatusNotification": True, "colorDiagnosticOutput": color},
        },
    }


def merge(base, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def usage_error(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def ra_config(legacy, extra):
    """rust-analyzer's settings (the `rust-analyzer` section). Today's name is `check.command`,
    with `checkOnSave` a bool; releases from before the `check.*` rename (late 2022) read
    `checkOnSave.command` inside a `checkOnSave` object instead, which today's releases reject,
    so the old form is sent only with --legacy-settings."""
    config = {
        "check": {"command": "deferlint"},
        "checkOnSave": True,
        "cachePriming": {"enable": False},
    }
    if legacy:
        config["checkOnSave"] = {"enable": True, "command": "deferlint"}
    return merge(config, extra)


def run(args):
    repo = Path(__file__).resolve().parent.parent
    ra = shutil.which(args.rust_analyzer) or args.rust_analyzer
    if not Path(ra).is_file():
        usage_error(f"no rust-analyzer at `{args.rust_analyzer}` (--rust-analyzer or RUST_ANALYZER)")
    bin_dir = Path(args.deferlint_dir)
    if not bin_dir.is_absolute():
        bin_dir = (Path.cwd() / bin_dir) if (Path.cwd() / bin_dir).is_dir() else (repo / bin_dir)
    deferlint, cargo_deferlint = bin_dir / "deferlint", bin_dir / "cargo-deferlint"
    for binary in (deferlint, cargo_deferlint):
        if not binary.is_file():
            usage_error(f"no {binary} (build with `cargo build --release`, or --deferlint-dir)")

    version = subprocess.run([ra, "--version"], capture_output=True, text=True, check=False)
    ra_version = (version.stdout or version.stderr).strip()
    if version.returncode != 0:
        usage_error(f"`{ra} --version` failed: {ra_version}")
    say(f"rust-analyzer: {ra} ({ra_version})")
    say(f"deferlint binaries: {bin_dir}")

    temp = Path(tempfile.mkdtemp(prefix="deferlint-ra-check-"))
    try:
        return check(args, ra, deferlint, cargo_deferlint, temp)
    finally:
        if args.keep:
            say(f"kept {temp}")
        else:
            shutil.rmtree(temp, ignore_errors=True)


def check(args, ra, deferlint, cargo_deferlint, temp):
    workspace = temp / "ws"
    (workspace / "src").mkdir(parents=True)
    (workspace / "Cargo.toml").write_text(CARGO_TOML)
    lib = workspace / "src" / "lib.rs"
    lib.write_text(LIB_RS)
    uri = file_uri(lib)

    _, help_span = precheck(deferlint, workspace)
    lib.write_text(FIXED_RS)
    say(
        f"deferlint --message-format=json: {RULE} at src/lib.rs:{help_span['line_start']}, help edit"
        f" `{help_span['text'][0]['text'][help_span['column_start'] - 1 : help_span['column_end'] - 1]}`"
        f" -> `{help_span['suggested_replacement']}` ({help_span['suggestion_applicability']})"
    )

    wrapper_dir = temp / "bin"
    wrapper_dir.mkdir()
    log = temp / "cargo-deferlint.log"
    wrapper = wrapper_dir / "cargo-deferlint"
    wrapper.write_text(WRAPPER.format(log=shlex.quote(str(log)), real=shlex.quote(str(cargo_deferlint))))
    wrapper.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(wrapper_dir), str(deferlint.parent), env.get("PATH", "")])

    config = ra_config(args.legacy_settings, args.settings)
    say(f"settings: {json.dumps(config)}")
    stderr_path = temp / "rust-analyzer.stderr"
    with open(stderr_path, "wb") as stderr_file:
        lsp = Lsp([ra], env, workspace, stderr_file, config, args.verbose)
        client = Client(lsp, args.timeout)
        try:
            result = session(client, lsp, workspace, lib, uri, log, not args.plain)
        except CheckFailed:
            if lsp.proc.poll() is None:
                lsp.proc.kill()
            print_log(log)
            print_stderr(stderr_path, always=True)
            raise
        print_stderr(stderr_path, always=args.verbose)
        return result


def save(lsp, lib, uri, text, version):
    """What an editor does on an edit and a save."""
    lib.write_text(text)
    lsp.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
    )
    lsp.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    return time.monotonic()


def session(client, lsp, workspace, lib, uri, log, color):
    init = client.call("initialize", initialize_params(workspace, lsp.config, color))
    server = init.get("serverInfo", {})
    say(f"initialized: {server.get('name')} {server.get('version')}")
    lsp.notify("initialized", {})
    lsp.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "rust", "version": 1, "text": FIXED_RS}},
    )

    client.wait_for("the workspace to load (experimental/serverStatus quiescent)", lambda: client.quiescent)
    say("workspace loaded (quiescent)")
    # rust-analyzer runs one check when a workspace has loaded; let it end so that the check
    # below is the one the save starts.
    loaded = time.monotonic()
    settle = time.monotonic() + 5
    while time.monotonic() < settle or (client.flycheck_runs and client.flycheck_runs[-1][2] is None):
        if client.pump(loaded + client.timeout) == "timeout":
            raise CheckFailed("timed out waiting for the check started at load to finish")
    if any(is_deferlint_finding(d) for d in client.diagnostics.get(lib, (0, []))[1]):
        raise CheckFailed(f"a `{RULE}` diagnostic before the code that has it was written")

    saved = save(lsp, lib, uri, LIB_RS, 2)
    say("the unwrap() written, didChange and didSave sent")

    def finding():
        if not client.flycheck_done_since(saved):
            return None
        received, diagnostics = client.diagnostics.get(lib, (0, []))
        found = [d for d in diagnostics if is_deferlint_finding(d)]
        if found and received >= saved:
            return found
        client.give_up_after_check(saved, f"a `{RULE}` diagnostic")
        return None

    found = client.wait_for(f"a `{RULE}` diagnostic for src/lib.rs after the save", finding)
    received = client.diagnostics[lib][0]
    main = next((d for d in found if d.get("severity") != 4), found[0])
    say(f"diagnostics received {received - saved:.1f}s after didSave: {len(found)} with code {RULE}")
    print(json.dumps(main, indent=2))
    for hint in found:
        if hint is not main:
            line = hint["range"]["start"]["line"] + 1
            say(f"  and a hint at line {line}: {hint['message']!r}")
    if main.get("source") != "deferlint" or code_of(main) != RULE:
        say(f"note: source {main.get('source')!r}, code {code_of(main)!r} (expected 'deferlint', {RULE!r})")

    asked = time.monotonic()
    actions = client.call(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": uri},
            "range": main["range"],
            "context": {"diagnostics": [main], "triggerKind": 1},
        },
    ) or []
    fixes = []
    for action in actions:
        if action.get("kind") != "quickfix":
            continue
        edits = edits_for(action, uri, lib)
        for edit in edits:
            covered, _ = text_in_range(LIB_RS, edit["range"])
            if covered == "unwrap()" and edit["newText"] == SUGGESTION:
                fixes.append((action, edits))
                break
    if not fixes:
        print(json.dumps(actions, indent=2))
        raise CheckFailed(
            f"no quick fix replacing `unwrap()` with `{SUGGESTION}` among {len(actions)} code actions"
        )
    action, edits = fixes[0]
    say(f"quick fix received {time.monotonic() - asked:.2f}s after codeAction: {action['title']!r}")
    print(json.dumps(action, indent=2))

    # Apply it as an editor would, save, and check that the finding is gone.
    fixed = apply_edits(LIB_RS, edits)
    changed_line = next(line for line in fixed.splitlines() if SUGGESTION in line)
    say(f"applied: {changed_line.strip()}")
    if fixed != FIXED_RS:
        raise CheckFailed(f"the fixed file is not the expected one:\n{fixed}")
    resaved = save(lsp, lib, uri, fixed, 3)

    def cleared():
        if not client.flycheck_done_since(resaved):
            return False
        received, diagnostics = client.diagnostics.get(lib, (0, []))
        if received >= resaved and not any(is_deferlint_finding(d) for d in diagnostics):
            return True
        client.give_up_after_check(resaved, f"clearing the `{RULE}` diagnostic")
        return False

    client.wait_for(f"the `{RULE}` diagnostic to go away after the fix was saved", cleared)
    say(f"after the fix: no {RULE} diagnostic ({time.monotonic() - resaved:.1f}s after didSave)")

    client.call("shutdown", None)
    lsp.notify("exit", None)
    try:
        status = lsp.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        lsp.proc.kill()
        raise CheckFailed("rust-analyzer did not exit within 30s of `exit`") from None
    say(f"rust-analyzer shut down (exit status {status})")
    invocations = print_log(log)
    if not invocations:
        raise CheckFailed(
            "rust-analyzer never ran the cargo-deferlint under test (is another one found first on"
            " PATH? a rust-analyzer from before 2023 needs --legacy-settings)"
        )
    return 0


def print_log(log):
    if not log.exists():
        say("cargo-deferlint was not run")
        return 0
    text = log.read_text()
    say("cargo-deferlint invocations:")
    print(text.rstrip())
    return text.count("argv:")


def print_stderr(path, always):
    text = path.read_text(errors="replace") if path.exists() else ""
    if always and text.strip():
        lines = text.strip().splitlines()
        say(f"rust-analyzer stderr (last {min(len(lines), 40)} of {len(lines)} lines):")
        print("\n".join(lines[-40:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rust-analyzer", default=os.environ.get("RUST_ANALYZER", "rust-analyzer"))
    parser.add_argument("--deferlint-dir", default=os.environ.get("DEFERLINT_DIR", "target/release"))
    parser.add_argument("--timeout", type=float, default=float(os.environ.get("RA_CHECK_TIMEOUT", "300")))
    parser.add_argument("--plain", action="store_true")
    parser.add_argument("--legacy-settings", action="store_true")
    parser.add_argument("--settings", type=json.loads, default={})
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    try:
        status = run(args)
    except CheckFailed as failure:
        say(f"FAILED: {failure}")
        return 1
    say("OK: rust-analyzer showed the deferlint finding and its quick fix")
    return status


if __name__ == "__main__":
    sys.exit(main())
