#!/usr/bin/env python3
"""Every PromQL expression of synacct's rule files and Grafana dashboard,
evaluated against a real Prometheus (selftests/t/60-metrics.t).

  promql-check.py list FILE...
      NAME<TAB>EXPR, one line per expression of the files (*.yml: rule
      files; *.json: a Grafana dashboard), as `check` evaluates them.
  promql-check.py lint DASHBOARD
      what Grafana would trip on (ids, layout, targets, variables): one
      line each, nothing when clean.
  promql-check.py check --url URL --time T [--var NAME=VALUE]...
                  [--expect FILE] FILE...
      evaluates each expression at time T and prints one line per check,
      GOT<TAB>WANT<TAB>WHAT, for the test to compare (t_is):
        - every expression returns data, but those an expectation says
          return nothing ("none");
        - each expectation, NAME<TAB>MATCH<TAB>WANT: every series of
          NAME's result whose labels include MATCH (label=value,...; "-"
          for all) has the value WANT (a number, compared to 6 significant
          digits, or LO..HI), and some series does.

Names: "record:RULE", "alert:ALERT" and "alert:ALERT (quantity)" (the
alert's expression before its first top-level comparison: what the alert
compares, which returns data even when the alert does not fire),
"panel:TITLE/REFID" and "var:NAME" (a dashboard variable's
label_values(EXPR, LABEL), evaluated as count by (LABEL) (EXPR)).
Dashboard variables ($job, ${job}, [[job]]) are replaced by --var values;
one left over is a failure.  Nothing here knows a panel or rule by name:
a new one is evaluated without editing the test.
"""
import json
import re
import sys
import urllib.parse
import urllib.request

import yaml


def top_level_lhs(expr):
    """The expression before its first comparison operator outside
    parentheses, braces and brackets (None if it has none)."""
    depth = 0
    i = 0
    quote = None
    while i < len(expr):
        c = expr[i]
        if quote:
            if c == '\\':
                i += 1
            elif c == quote:
                quote = None
        elif c in '"\'`':
            quote = c
        elif c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
        elif depth == 0 and expr[i:i + 2] in ('==', '!=', '>=', '<='):
            return expr[:i].strip()
        elif depth == 0 and c in '<>':
            return expr[:i].strip()
        i += 1
    return None


def one_line(expr):
    return ' '.join(expr.split())


def rule_exprs(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    for group in doc['groups']:
        for rule in group['rules']:
            expr = one_line(rule['expr'])
            if 'record' in rule:
                yield 'record:' + rule['record'], expr
            else:
                yield 'alert:' + rule['alert'], expr
                lhs = top_level_lhs(expr)
                if lhs:
                    yield 'alert:%s (quantity)' % rule['alert'], lhs


def dashboard_panels(panels):
    for p in panels:
        yield p
        yield from dashboard_panels(p.get('panels', []))


def dashboard_exprs(path):
    with open(path) as f:
        dash = json.load(f)
    for v in dash.get('templating', {}).get('list', []):
        if v.get('type') != 'query':
            continue
        q = v['query']
        q = q.get('query', '') if isinstance(q, dict) else q
        m = re.fullmatch(r'\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*', q, re.S)
        if not m:
            yield 'var:' + v['name'], 'unsupported variable query: ' + q
            continue
        yield 'var:' + v['name'], 'count by (%s) (%s)' % (m.group(2), one_line(m.group(1)))
    for p in dashboard_panels(dash.get('panels', [])):
        for t in p.get('targets', []):
            if 'expr' in t:
                yield 'panel:%s/%s' % (p.get('title', '?'), t.get('refId', '?')), one_line(t['expr'])


def exprs(files):
    for path in files:
        yield from (dashboard_exprs(path) if path.endswith('.json') else rule_exprs(path))


def substitute(expr, variables):
    for name, value in variables.items():
        expr = expr.replace('${%s}' % name, value).replace('[[%s]]' % name, value)
        expr = re.sub(r'\$%s\b' % re.escape(name), lambda m: value, expr)
    return expr


def query(url, expr, when):
    q = urllib.parse.urlencode({'query': expr, 'time': when})
    with urllib.request.urlopen('%s/api/v1/query?%s' % (url, q), timeout=10) as r:
        data = json.load(r)['data']
    if data['resultType'] == 'scalar':
        return [({}, data['result'][1])]
    return [(s['metric'], s['value'][1]) for s in data['result']]


def norm(v):
    return '%.6g' % float(v)


def matches(want, got):
    if '..' in want:
        lo, hi = want.split('..')
        return float(lo) <= float(got) <= float(hi)
    return norm(want) == norm(got)


def check(args):
    url, when, variables, expect_file, files = None, None, {}, None, []
    it = iter(args)
    for a in it:
        if a == '--url':
            url = next(it)
        elif a == '--time':
            when = next(it)
        elif a == '--var':
            k, _, v = next(it).partition('=')
            variables[k] = v
        elif a == '--expect':
            expect_file = next(it)
        else:
            files.append(a)
    expect = []
    if expect_file:
        with open(expect_file) as f:
            for line in f:
                if line.strip() and not line.startswith('#'):
                    expect.append(line.rstrip('\n').split('\t'))
    results = {}
    for name, expr in exprs(files):
        expr = substitute(expr, variables)
        left = re.search(r'\$\{?\w+|\[\[\w+\]\]', expr)
        if left or expr.startswith('unsupported'):
            print('%s\tdata\t%s returns data: %s' % (left.group(0) if left else expr, name, expr))
            continue
        try:
            res = query(url, expr, when)
        except Exception as e:  # a query Prometheus refuses: its error
            res = None
            err = str(getattr(e, 'read', lambda: b'')().decode() or e)
        results[name] = res or []
        want_none = any(e[0] == name and e[2] == 'none' for e in expect)
        want = 'nothing' if want_none else 'data'
        if res is None:
            got = 'error: ' + err
        else:
            got = 'data' if res else 'nothing'
        print('%s\t%s\t%s returns %s: %s' % (got, want, name, want, expr))
    for name, match, want in expect:
        if want == 'none':
            continue
        what = '%s{%s} == %s' % (name, match, want)
        if name not in results:
            print('no such expression\t%s\t%s' % (want, what))
            continue
        sel = {} if match == '-' else dict(kv.split('=', 1) for kv in match.split(','))
        vals = [v for m, v in results[name] if all(m.get(k) == v2 for k, v2 in sel.items())]
        bad = sorted({norm(v) for v in vals if not matches(want, v)})
        if not vals:
            got = 'no series'
        elif bad:
            got = ','.join(bad)
        else:
            got = want
        print('%s\t%s\t%s' % (got, want, what))


def lint(path):
    """What Grafana would trip on, since it cannot render the dashboard
    here: panel ids not unique, a panel outside the 24 columns or over
    another, a target without an expression or with a refId used twice
    in its panel, a variable used but not defined."""
    with open(path) as f:
        dash = json.load(f)
    defined = {v['name'] for v in dash.get('templating', {}).get('list', [])}
    ids, cells = set(), {}
    for p in dashboard_panels(dash.get('panels', [])):
        what = 'panel %r' % p.get('title')
        if p.get('id') in ids:
            print('%s: id %s used twice' % (what, p.get('id')))
        ids.add(p.get('id'))
        g = p.get('gridPos', {})
        if not all(k in g for k in 'xywh') or g['x'] < 0 or g['x'] + g['w'] > 24:
            print('%s: gridPos %s outside the 24 columns' % (what, g))
            continue
        for x in range(g['x'], g['x'] + g['w']):
            for y in range(g['y'], g['y'] + g['h']):
                if (x, y) in cells:
                    print('%s: over panel %r at column %d, row %d' % (what, cells[(x, y)], x, y))
                    break
                cells[(x, y)] = p.get('title')
            else:
                continue
            break
        refs = [t.get('refId') for t in p.get('targets', [])]
        if len(refs) != len(set(refs)):
            print('%s: refIds %s not unique' % (what, refs))
        if p.get('type') != 'row' and not p.get('targets'):
            print('%s: no query' % what)
        for t in p.get('targets', []):
            if not t.get('expr'):
                print('%s/%s: no expression' % (what, t.get('refId')))
    text = json.dumps(dash)
    for name in sorted(set(re.findall(r'\$\{?(\w+)', text)) - defined):
        if not name.startswith('__'):
            print('variable $%s used, not defined' % name)


def main():
    if len(sys.argv) > 2 and sys.argv[1] == 'list':
        for name, expr in exprs(sys.argv[2:]):
            print('%s\t%s' % (name, expr))
    elif len(sys.argv) == 3 and sys.argv[1] == 'lint':
        lint(sys.argv[2])
    elif len(sys.argv) > 2 and sys.argv[1] == 'check':
        check(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
