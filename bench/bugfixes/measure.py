#!/usr/bin/env python3
"""Recall of deferlint on real upstream bug fixes (see README.md in this folder).

For every case of manifest.toml: take the analysis units (`paths`) at the commit before
the fix and at the fix commit out of a local git mirror, write them under a scratch folder
(outside this repository), run deferlint on each side with every rule enabled, and compare
the findings with the lines the fix changed.

Nothing is built and nothing of the fetched code is run: deferlint only reads the files.

Usage: measure.py --mirrors DIR [--deferlint BIN] [--work DIR] [--only ID[,ID..]] [--window N]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tomllib
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))


def find_gitdir(mirrors, repo):
    owner, name = repo.split('/')
    cands = [
        os.path.join(mirrors, f'{owner}+{name}', 'repo', '.git'),
        os.path.join(mirrors, f'{owner}+{name}', 'repo'),
        os.path.join(mirrors, f'{owner}+{name}.git'),
        os.path.join(mirrors, f'{owner}+{name}'),
        os.path.join(mirrors, owner, f'{name}.git'),
        os.path.join(mirrors, owner, name, '.git'),
        os.path.join(mirrors, owner, name),
    ]
    for c in cands:
        if os.path.isfile(os.path.join(c, 'HEAD')) and os.path.isdir(os.path.join(c, 'objects')):
            return c
    return None


def git(gitdir, *args, binary=False):
    out = subprocess.run(['git', '--git-dir', gitdir] + list(args), capture_output=True, check=True)
    return out.stdout if binary else out.stdout.decode('utf-8', 'replace')


def unit_files(gitdir, commit, unit, lang, all_files):
    """Files of one analysis unit: a Go package folder (its own .go files, not sub-packages)
    or a cargo package folder (its .rs files and Cargo.toml, not nested packages)."""
    prefix = '' if unit in ('', '.') else unit.rstrip('/') + '/'
    inside = [f for f in all_files if f.startswith(prefix)]
    if lang == 'go':
        u = '' if unit in ('', '.') else unit.rstrip('/')
        return [f for f in inside if f.endswith('.go') and os.path.dirname(f) == u]
    nested = {os.path.dirname(f) for f in inside
              if f.endswith('/Cargo.toml') and os.path.dirname(f) != prefix.rstrip('/')}
    keep = []
    for f in inside:
        if not (f.endswith('.rs') or f == prefix + 'Cargo.toml'):
            continue
        parts = f.split('/')
        if any('/'.join(parts[:i]) in nested for i in range(1, len(parts))):
            continue
        if f.startswith(prefix + 'target/'):
            continue
        keep.append(f)
    return keep


def workspace_manifest(gitdir, commit, unit, all_files):
    """The nearest enclosing Cargo.toml with a [workspace] table, for `*.workspace = true` keys."""
    d = os.path.dirname(unit.rstrip('/')) if unit not in ('', '.') else None
    while d is not None:
        cand = (d + '/Cargo.toml') if d else 'Cargo.toml'
        if cand in all_files:
            text = git(gitdir, 'show', f'{commit}:{cand}')
            if re.search(r'^\[workspace\]', text, re.M):
                return cand
        if not d:
            return None
        d = os.path.dirname(d)
    return None


def extract(gitdir, commit, files, dest):
    proc = subprocess.Popen(['git', '--git-dir', gitdir, 'cat-file', '--batch'],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for f in files:
        proc.stdin.write(f'{commit}:{f}\n'.encode())
        proc.stdin.flush()
        header = proc.stdout.readline().decode().split()
        if len(header) < 3 or header[1] != 'blob':
            continue
        size = int(header[2])
        data = proc.stdout.read(size)
        proc.stdout.read(1)
        path = os.path.join(dest, f)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as fh:
            fh.write(data)
    proc.stdin.close()
    proc.wait()


def list_rules(deferlint):
    out = subprocess.run([deferlint, '--list-rules'], capture_output=True, text=True, check=True).stdout
    rules = []
    for line in out.splitlines()[1:]:
        name = line.split()[0] if line.split() else ''
        # The tool's own diagnostics are not rules to measure (and `invalid-suppression`
        # takes no level flag).
        if name and name not in ('parse-error', 'unused-suppression', 'unknown-rule',
                                 'invalid-suppression'):
            rules.append(name)
    return rules


def run_deferlint(deferlint, rules, root, tests):
    cmd = [deferlint, '--message-format', 'json', '--color', 'never', '-j', '1']
    for r in rules:
        cmd += ['-W', r]
    if tests:
        cmd.append('--all-targets')
    cmd.append('.')
    out = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    findings = []
    for line in out.stdout.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get('reason') != 'compiler-message':
            continue
        m = msg['message']
        code = (m.get('code') or {}).get('code', '')
        code = code.split('::', 1)[-1]
        prim = [s for s in m.get('spans', []) if s.get('is_primary')]
        if not prim:
            continue
        s = prim[0]
        fname = s['file_name']
        if os.path.isabs(fname):
            fname = os.path.relpath(fname, root)
        fname = os.path.normpath(fname)
        findings.append({'rule': code, 'file': fname, 'line': s['line_start'], 'line_end': s['line_end'],
                         'message': m.get('message', '')})
    return findings, out.returncode, out.stderr[-2000:]


def near(f, ranges, window):
    return any(f['line'] <= hi + window and f['line_end'] >= lo - window for lo, hi in ranges)


def evaluate(case, side, findings, window):
    changed = {c['path']: c.get(side, []) for c in case['changed']}
    strict, loose, noise = [], [], []
    for f in findings:
        on_changed = f['file'] in changed
        if f['rule'] == case['rule'] and on_changed:
            loose.append(f)
            if near(f, changed[f['file']], window):
                strict.append(f)
                continue
        if on_changed:
            noise.append(f)
    return strict, loose, noise


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mirrors', required=True)
    ap.add_argument('--deferlint', default=os.environ.get('DEFERLINT', 'deferlint'))
    ap.add_argument('--work', default=os.environ.get('BUGFIX_WORK', '/tmp/deferlint-bugfixes'))
    ap.add_argument('--manifest', default=os.path.join(HERE, 'manifest.toml'))
    ap.add_argument('--only', default='')
    ap.add_argument('--window', type=int, default=3)
    args = ap.parse_args()

    work = os.path.abspath(args.work)
    repo_root = os.path.abspath(os.path.join(HERE, '..', '..'))
    if work == repo_root or work.startswith(repo_root + os.sep):
        sys.exit('measure.py: --work must be outside the repository (fetched code is never committed)')
    with open(args.manifest, 'rb') as fh:
        manifest = tomllib.load(fh)
    cases = manifest['case']
    if args.only:
        wanted = set(args.only.split(','))
        cases = [c for c in cases if c['id'] in wanted]
    rules = list_rules(args.deferlint)
    os.makedirs(work, exist_ok=True)

    results = []
    for case in cases:
        gitdir = find_gitdir(args.mirrors, case['repository'])
        res = {'id': case['id'], 'language': case['language'], 'rule': case['rule'],
               'repository': case['repository']}
        if not gitdir:
            res['error'] = 'no mirror'
            results.append(res)
            print(f"{case['id']}: no mirror of {case['repository']} under {args.mirrors}", file=sys.stderr)
            continue
        for side in ('before', 'after'):
            commit = case[side]
            root = os.path.join(work, 'trees', case['id'], side)
            subprocess.run(['rm', '-rf', root], check=True)
            os.makedirs(root)
            all_files = git(gitdir, 'ls-tree', '-r', '--name-only', commit).splitlines()
            files = []
            for unit in case['paths']:
                files += unit_files(gitdir, commit, unit, case['language'], all_files)
                if case['language'] == 'rust':
                    ws = workspace_manifest(gitdir, commit, unit, all_files)
                    if ws:
                        files.append(ws)
            extract(gitdir, commit, sorted(set(files)), root)
            findings, rc, err = run_deferlint(args.deferlint, rules, root, case.get('test_code', False))
            strict, loose, noise = evaluate(case, side, findings, args.window)
            res[side] = {'files': len(set(files)), 'exit': rc, 'findings': len(findings),
                         'strict': strict, 'loose': loose, 'noise': noise,
                         'parse_errors': sum(1 for f in findings if f['rule'] == 'parse-error'),
                         'crashed': rc < 0 or 'overflowed its stack' in err or 'panicked' in err}
            with open(os.path.join(work, f"{case['id']}-{side}.json"), 'w') as fh:
                json.dump({'findings': findings, 'stderr': err, 'exit': rc}, fh, indent=1)
        b, a = res['before'], res['after']
        res['flagged_before'] = bool(b['strict'])
        res['silent_after'] = not a['strict']
        res['both'] = res['flagged_before'] and res['silent_after']
        res['loose_flagged_before'] = bool(b['loose'])
        res['loose_silent_after'] = not a['loose']
        res['loose_both'] = res['loose_flagged_before'] and res['loose_silent_after']
        results.append(res)
        print(f"{case['id']:22} {case['rule']:30} before:{'FLAGGED' if res['flagged_before'] else 'missed':7} "
              f"after:{'silent' if res['silent_after'] else 'STILL':6} loose:{int(res['loose_flagged_before'])}/"
              f"{int(res['loose_silent_after'])} noise:{len(b['noise'])}/{len(a['noise'])} "
              f"files:{b['files']}/{a['files']}"
              + (' CRASHED' if b['crashed'] or a['crashed'] else '')
              + (f" parse-errors:{b['parse_errors']}" if b['parse_errors'] else ''), flush=True)

    with open(os.path.join(work, 'results.json'), 'w') as fh:
        json.dump(results, fh, indent=1)

    ok = [r for r in results if 'error' not in r]
    print()
    print('per rule and language (strict: primary span within ±%d lines of a changed hunk; '
          'loose: anywhere in a changed file)' % args.window)
    print(f"{'language':8} {'rule':30} {'cases':>5} {'flagged':>7} {'silent':>6} {'both':>5}   "
          f"{'loose-fl':>8} {'loose-both':>10}")
    groups = defaultdict(list)
    for r in ok:
        groups[(r['language'], r['rule'])].append(r)
    for lang in ('go', 'rust'):
        tot = defaultdict(int)
        for (lg, rule), rs in sorted(groups.items()):
            if lg != lang:
                continue
            row = (len(rs), sum(r['flagged_before'] for r in rs), sum(r['silent_after'] for r in rs),
                   sum(r['both'] for r in rs), sum(r['loose_flagged_before'] for r in rs),
                   sum(r['loose_both'] for r in rs))
            for i, v in enumerate(row):
                tot[i] += v
            print(f"{lang:8} {rule:30} {row[0]:5} {row[1]:7} {row[2]:6} {row[3]:5}   {row[4]:8} {row[5]:10}")
        print(f"{lang:8} {'ALL':30} {tot[0]:5} {tot[1]:7} {tot[2]:6} {tot[3]:5}   {tot[4]:8} {tot[5]:10}")
    nb = sum(len(r['before']['noise']) for r in ok)
    na = sum(len(r['after']['noise']) for r in ok)
    print(f"\nnoise (other findings on changed files): before {nb}, after {na}; results in {work}/results.json")
    crashed = [r['id'] for r in ok if r['before']['crashed'] or r['after']['crashed']]
    if crashed:
        print('deferlint crashed on: ' + ', '.join(crashed))
    missing = [r['id'] for r in results if 'error' in r]
    if missing:
        print('no mirror for: ' + ', '.join(missing))


if __name__ == '__main__':
    main()
