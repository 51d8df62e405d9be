#!/usr/bin/env python3
"""The layering of src/ as docs/ARCHITECTURE.md declares it, enforced.

The table "Layers" in docs/ARCHITECTURE.md is the single source: it orders the folders of src/, says which public
headers (include/plast/) each folder owns and which of its internal headers the layers above may use. This test
reads that table and checks every #include in src/ and include/:
  - a folder uses only itself and the folders below it (no upward edge, hence no cycle), through public headers
    or through the internal headers its table row exports to it;
  - a public header includes only public headers of its own layer or below;
  - the umbrella plast.h is used only by the CLI;
  - every folder of src/ and every public header appears in the table.
Given object files (--objects), it checks the same order on the symbols each object uses, which catches calls
that bypass headers. --self-test runs the checker on small trees with known violations and fails unless it finds
each one, so this test cannot pass by finding nothing.
Prints "test_layers: N passed, N failed" and exits non-zero on failure.
"""
import os
import re
import subprocess
import sys
import tempfile

from checks import Checks

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def parse_table(doc_text):
    """Rows "| N | `folder` | public headers | exported headers | what |" of the Layers table."""
    layers = []
    for line in doc_text.splitlines():
        m = re.match(r'^\|\s*(\d+)\s*\|\s*`([a-z_]+)`\s*\|([^|]*)\|([^|]*)\|', line)
        if not m:
            continue
        order, folder, pub, exp = int(m.group(1)), m.group(2), m.group(3), m.group(4)
        public = re.findall(r'`([a-z_]+\.h)`', pub)
        exports = {}  # header -> set of folders allowed ("*" for every folder above)
        if 'every header' in exp:
            exports['*'] = {'*'}
        else:
            for group in exp.split(';'):
                ticks = re.findall(r'`([^`]+)`', group)
                hdrs = [t for t in ticks if t.endswith('.h')]
                users = {t for t in ticks if not t.endswith('.h')}
                for h in hdrs:
                    exports[h] = users
        layers.append({'order': order, 'folder': folder, 'public': public, 'exports': exports})
    return layers


def check_tree(root, layers, objects=()):
    """Returns a list of violations (strings) for the source tree at root."""
    bad = []
    rank = {L['folder']: L['order'] for L in layers}
    by_folder = {L['folder']: L for L in layers}
    owner = {}  # public header -> folder
    for L in layers:
        for h in L['public']:
            owner[h] = L['folder']
    if len(set(rank.values())) != len(rank):
        bad.append('docs/ARCHITECTURE.md: two layers share an order number')
    src = os.path.join(root, 'src')
    for folder in sorted(os.listdir(src)):
        if os.path.isdir(os.path.join(src, folder)) and folder not in rank:
            bad.append(f'src/{folder}/ is not in the Layers table of docs/ARCHITECTURE.md')
    inc = os.path.join(root, 'include', 'plast')
    for h in sorted(os.listdir(inc)) if os.path.isdir(inc) else []:
        if h.endswith('.h') and h not in owner:
            bad.append(f'include/plast/{h} is owned by no layer in docs/ARCHITECTURE.md')

    def target_layer(path, inc_name, own):
        """(folder, internal header name or None) of an #include, or None for a system/unknown header."""
        if inc_name == 'plast.h':
            return ('umbrella', None)
        if inc_name.startswith('plast/'):
            h = inc_name[len('plast/'):]
            if h not in owner:
                bad.append(f'{path}: includes unknown public header {inc_name}')
                return None
            return (owner[h], None)
        if '/' in inc_name:
            folder, h = inc_name.split('/', 1)
            if folder not in rank:
                bad.append(f'{path}: includes {inc_name} from a folder not in the Layers table')
                return None
            return (folder, h)
        return (own, inc_name)  # a header of the same folder, by bare name

    files = []
    for folder in sorted(rank):
        d = os.path.join(src, folder)
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                if f.endswith(('.c', '.h')):
                    files.append((os.path.join('src', folder, f), folder, False))
    for h in sorted(owner):
        if os.path.exists(os.path.join(inc, h)):
            files.append((os.path.join('include', 'plast', h), owner[h], True))
    for rel, own, is_public in files:
        text = open(os.path.join(root, rel), encoding='utf-8').read()
        for inc_name in INCLUDE_RE.findall(text):
            t = target_layer(rel, inc_name, own)
            if t is None:
                continue
            folder, internal = t
            if folder == 'umbrella':
                if own != 'cli':
                    bad.append(f'{rel}: includes the umbrella plast.h (only src/cli/ may)')
                continue
            if is_public and internal is not None:
                bad.append(f'{rel}: a public header includes internal header {inc_name}')
                continue
            if rank[folder] > rank[own]:
                bad.append(f'{rel}: upward include of {inc_name} ({own} is layer {rank[own]}, '
                           f'{folder} is layer {rank[folder]})')
                continue
            if internal is not None and folder != own:
                exp = by_folder[folder]['exports']
                users = exp.get(internal, exp.get('*', set()))
                if '*' not in users and own not in users:
                    bad.append(f'{rel}: uses {inc_name}, which {folder}/ does not export to {own}/ '
                               f'(docs/ARCHITECTURE.md)')

    # symbols: the folder of the object that defines each symbol must not be above the folder that uses it
    defs, uses = {}, []
    for o in objects:
        parts = o.replace('\\', '/').split('/')
        folder = next((p for p in reversed(parts[:-1]) if p in rank), None)
        if folder is None:
            continue
        out = subprocess.run(['nm', o], capture_output=True, text=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in 'TDBR':
                defs[f[2]] = folder
            elif len(f) == 2 and f[0] == 'U':
                uses.append((o, folder, f[1]))
    for o, folder, sym in uses:
        d = defs.get(sym)
        if d and rank[d] > rank[folder]:
            bad.append(f'{os.path.basename(o)} ({folder}/) calls {sym}, defined in {d}/ above it')
    return bad


OUTSIDE_RE = re.compile(r'research notes|plasticrnns\.md|stpn_miconi_hebbff\.md|shared/research|\.\./shared')


def outside_citations(root):
    """Comments and docs cite papers, public reference repositories or docs/ pages, never notes a reader of the
    repository cannot open."""
    found = []
    for top in ('src', 'include', 'tests', 'bench', 'configs', 'docs', 'examples', 'tools', 'README.md'):
        base = os.path.join(root, top)
        paths = [base] if os.path.isfile(base) else [os.path.join(d, f) for d, _, fs in os.walk(base) for f in fs]
        for path in paths:
            if path.endswith(('.safetensors', '.png', '.gz', '.bin')) or os.path.basename(path) == 'test_layers.py':
                continue
            try:
                text = open(path, encoding='utf-8').read()
            except (UnicodeDecodeError, OSError):
                continue
            for n, line in enumerate(text.splitlines(), 1):
                if OUTSIDE_RE.search(line):
                    found.append(f'{os.path.relpath(path, root)}:{n}: cites notes outside the repository')
    return found


def self_test(layers):
    """Small trees with one known violation each; the checker must report every one."""
    cases = {
        'upward internal include': ('src/core/x.c', '#include "train/run_internal.h"\n'),
        'upward public include': ('src/params/x.c', '#include "plast/model.h"\n'),
        'umbrella outside cli': ('src/engine/x.h', '#include "plast.h"\n'),
        'internal header not exported': ('src/train/x.c', '#include "autodiff/tape_internal.h"\n'),
        'unlisted folder': ('src/newlayer/x.c', '\n'),
    }
    missed = []
    for name, (rel, text) in cases.items():
        with tempfile.TemporaryDirectory() as d:
            for L in layers:
                os.makedirs(os.path.join(d, 'src', L['folder']), exist_ok=True)
            os.makedirs(os.path.join(d, 'include', 'plast'), exist_ok=True)
            for L in layers:
                for h in L['public']:
                    open(os.path.join(d, 'include', 'plast', h), 'w').close()
            os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
            with open(os.path.join(d, rel), 'w') as f:
                f.write(text)
            if not check_tree(d, layers):
                missed.append(name)
    return missed


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args = sys.argv[1:]
    objects = []
    if '--objects' in args:
        i = args.index('--objects')
        for a in args[i + 1:]:
            objects += [o for o in a.split(';') if o]
    layers = parse_table(open(os.path.join(root, 'docs', 'ARCHITECTURE.md'), encoding='utf-8').read())
    check = Checks()
    check(len(layers) >= 8, f'the Layers table of docs/ARCHITECTURE.md has {len(layers)} rows')
    bad = check_tree(root, layers, objects)
    for b in bad:
        print('  ' + b)
    check(not bad, f'{len(bad)} layering violations in src/ and include/')
    check(not objects or len(objects) > 20, f'only {len(objects)} object files given')
    missed = self_test(layers)
    check(not missed, 'the checker missed planted violations: ' + ', '.join(missed))
    cites = outside_citations(root)
    for c in cites:
        print('  ' + c)
    check(not cites, f'{len(cites)} citations of notes outside the repository')
    order = ' -> '.join(L['folder'] for L in sorted(layers, key=lambda L: L['order']))
    print(f'layers: {order}; {len(objects)} objects checked by symbol')
    sys.exit(check.finish('test_layers'))


if __name__ == '__main__':
    main()
