//! npm version ranges, as node-semver defines them
//! (<https://github.com/npm/node-semver#ranges>): comparators, hyphen ranges, x-ranges, tilde
//! and caret ranges, joined by spaces (and) and `||` (or).
//!
//! [`satisfies`] answers only what it can decide exactly: a prerelease version, a comparator
//! with a prerelease tag, or anything that is not a range (a tag such as `latest`, a URL, a
//! `workspace:` or `file:` spec) gives `None`, and the caller reports nothing.

/// Whether `version` satisfies the npm range `range`; `None` when that cannot be decided.
pub(super) fn satisfies(range: &str, version: &str) -> Option<bool> {
    let v = parse_version(version)?;
    let mut any = false;
    for alt in range.split("||") {
        let comparators = parse_range(alt.trim())?;
        if comparators.iter().all(|c| c.matches(v)) {
            any = true;
        }
    }
    Some(any)
}

type Triple = (u64, u64, u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

#[derive(Debug, Clone, Copy)]
struct Comparator {
    op: Op,
    at: Triple,
}

impl Comparator {
    fn matches(self, v: Triple) -> bool {
        match self.op {
            Op::Lt => v < self.at,
            Op::Le => v <= self.at,
            Op::Gt => v > self.at,
            Op::Ge => v >= self.at,
            Op::Eq => v == self.at,
        }
    }
}

/// A full version without prerelease (build metadata is ignored, as npm does).
fn parse_version(s: &str) -> Option<Triple> {
    let s = s.trim().trim_start_matches(['v', '=']);
    let s = s.split('+').next()?;
    if s.contains('-') {
        return None;
    }
    let mut parts = s.split('.');
    let t = (
        num(parts.next()?)?,
        num(parts.next()?)?,
        num(parts.next()?)?,
    );
    parts.next().is_none().then_some(t)
}

fn num(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A partial version: `1`, `1.2`, `1.2.3`, with `x`, `X` or `*` for any part.
#[derive(Debug, Clone, Copy)]
struct Partial {
    major: Option<u64>,
    minor: Option<u64>,
    patch: Option<u64>,
}

fn parse_partial(s: &str) -> Option<Partial> {
    let s = s.trim().trim_start_matches(['v', 'V']);
    let s = s.split('+').next()?;
    if s.contains('-') {
        // A prerelease tag changes which versions match; not decided here.
        return None;
    }
    let mut parts = s.split('.');
    let mut next = || -> Option<Option<u64>> {
        match parts.next() {
            None => Some(None),
            Some("x" | "X" | "*") => Some(None),
            Some(p) => num(p).map(Some),
        }
    };
    let major = next()?;
    let minor = next()?;
    let patch = next()?;
    if parts.next().is_some() {
        return None;
    }
    // `1.x.3` is not a partial version.
    if (major.is_none() && (minor.is_some() || patch.is_some()))
        || (minor.is_none() && patch.is_some())
    {
        return None;
    }
    Some(Partial {
        major,
        minor,
        patch,
    })
}

fn parse_range(range: &str) -> Option<Vec<Comparator>> {
    if range.is_empty() || range == "*" || range == "x" || range == "X" {
        return Some(vec![Comparator {
            op: Op::Ge,
            at: (0, 0, 0),
        }]);
    }
    if let Some((lo, hi)) = range.split_once(" - ") {
        let mut out = lower_bound(parse_partial(lo)?);
        out.extend(upper_inclusive(parse_partial(hi)?));
        return Some(out);
    }
    let mut out = Vec::new();
    let mut pending_op: Option<&str> = None;
    for tok in range.split_whitespace() {
        let tok = match pending_op.take() {
            Some(op) => format!("{op}{tok}"),
            None => tok.to_owned(),
        };
        if matches!(
            tok.as_str(),
            "<" | "<=" | ">" | ">=" | "=" | "~" | "^" | "~>"
        ) {
            pending_op = Some(match tok.as_str() {
                "<" => "<",
                "<=" => "<=",
                ">" => ">",
                ">=" => ">=",
                "=" => "=",
                "~" => "~",
                "~>" => "~",
                _ => "^",
            });
            continue;
        }
        out.extend(simple(&tok)?);
    }
    if pending_op.is_some() {
        return None;
    }
    Some(out)
}

fn simple(tok: &str) -> Option<Vec<Comparator>> {
    if let Some(rest) = tok.strip_prefix("~>").or_else(|| tok.strip_prefix('~')) {
        return Some(tilde(parse_partial(rest)?));
    }
    if let Some(rest) = tok.strip_prefix('^') {
        return Some(caret(parse_partial(rest)?));
    }
    for (prefix, op) in [
        (">=", Op::Ge),
        ("<=", Op::Le),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("=", Op::Eq),
    ] {
        if let Some(rest) = tok.strip_prefix(prefix) {
            return primitive(op, parse_partial(rest)?);
        }
    }
    primitive(Op::Eq, parse_partial(tok)?)
}

fn ge(at: Triple) -> Comparator {
    Comparator { op: Op::Ge, at }
}

fn lt(at: Triple) -> Comparator {
    Comparator { op: Op::Lt, at }
}

fn lower_bound(p: Partial) -> Vec<Comparator> {
    vec![ge((
        p.major.unwrap_or(0),
        p.minor.unwrap_or(0),
        p.patch.unwrap_or(0),
    ))]
}

fn upper_inclusive(p: Partial) -> Vec<Comparator> {
    match (p.major, p.minor, p.patch) {
        (None, _, _) => Vec::new(),
        (Some(m), None, _) => vec![lt((m + 1, 0, 0))],
        (Some(m), Some(n), None) => vec![lt((m, n + 1, 0))],
        (Some(m), Some(n), Some(q)) => vec![Comparator {
            op: Op::Le,
            at: (m, n, q),
        }],
    }
}

fn primitive(op: Op, p: Partial) -> Option<Vec<Comparator>> {
    let (major, minor, patch) = (p.major, p.minor, p.patch);
    Some(match (op, major, minor, patch) {
        // Fully specified: the comparator as written.
        (_, Some(m), Some(n), Some(q)) => vec![Comparator { op, at: (m, n, q) }],
        // `=1.2`, `1.2`, `1.x`: an x-range.
        (Op::Eq, None, _, _) => vec![ge((0, 0, 0))],
        (Op::Eq, Some(_), _, _) => {
            let mut out = lower_bound(p);
            out.extend(upper_inclusive(p));
            out
        }
        // `>1.2` means >=1.3.0; `>1` means >=2.0.0; `>*` matches nothing.
        (Op::Gt, None, _, _) => vec![lt((0, 0, 0))],
        (Op::Gt, Some(m), None, _) => vec![ge((m + 1, 0, 0))],
        (Op::Gt, Some(m), Some(n), None) => vec![ge((m, n + 1, 0))],
        (Op::Ge, _, _, _) => lower_bound(p),
        // `<1.2` means <1.2.0; `<*` matches nothing.
        (Op::Lt, None, _, _) => vec![lt((0, 0, 0))],
        (Op::Lt, _, _, _) => vec![lt((
            major.unwrap_or(0),
            minor.unwrap_or(0),
            patch.unwrap_or(0),
        ))],
        // `<=1.2` means <1.3.0; `<=*` matches everything.
        (Op::Le, None, _, _) => vec![ge((0, 0, 0))],
        (Op::Le, _, _, _) => upper_inclusive(p),
    })
}

fn tilde(p: Partial) -> Vec<Comparator> {
    match (p.major, p.minor) {
        (None, _) => vec![ge((0, 0, 0))],
        (Some(m), None) => vec![ge((m, 0, 0)), lt((m + 1, 0, 0))],
        (Some(m), Some(n)) => vec![ge((m, n, p.patch.unwrap_or(0))), lt((m, n + 1, 0))],
    }
}

fn caret(p: Partial) -> Vec<Comparator> {
    match (p.major, p.minor, p.patch) {
        (None, _, _) => vec![ge((0, 0, 0))],
        (Some(m), None, _) => vec![ge((m, 0, 0)), lt((m + 1, 0, 0))],
        (Some(0), Some(n), None) => vec![ge((0, n, 0)), lt((0, n + 1, 0))],
        (Some(m), Some(n), None) => vec![ge((m, n, 0)), lt((m + 1, 0, 0))],
        (Some(0), Some(0), Some(q)) => vec![ge((0, 0, q)), lt((0, 0, q + 1))],
        (Some(0), Some(n), Some(q)) => vec![ge((0, n, q)), lt((0, n + 1, 0))],
        (Some(m), Some(n), Some(q)) => vec![ge((m, n, q)), lt((m + 1, 0, 0))],
    }
}

#[cfg(test)]
mod tests {
    use super::satisfies;

    #[test]
    fn node_semver_examples() {
        let yes = [
            ("^1.2.3", "1.9.0"),
            ("^0.2.3", "0.2.9"),
            ("^0.0.3", "0.0.3"),
            ("^1.x", "1.5.0"),
            ("^0.x", "0.9.9"),
            ("~1.2.3", "1.2.9"),
            ("~1.2", "1.2.0"),
            ("~1", "1.9.9"),
            ("1.2.x", "1.2.7"),
            ("1.x || >=2.5.0 || 5.0.0 - 7.2.3", "2.6.0"),
            ("1.2 - 2.3.4", "2.3.4"),
            ("1.2.3 - 2.3", "2.3.9"),
            (">= 1.2.0 < 2", "1.5.0"),
            (">1.2", "1.3.0"),
            ("<=1.2", "1.2.9"),
            ("*", "3.0.0"),
            ("", "0.0.1"),
            ("=1.0.0", "1.0.0"),
            ("v1.0.0", "1.0.0"),
            ("~> 1.2", "1.2.5"),
        ];
        for (r, v) in yes {
            assert_eq!(satisfies(r, v), Some(true), "{r} {v}");
        }
        let no = [
            ("^1.2.3", "2.0.0"),
            ("^1.2.3", "1.2.2"),
            ("^0.2.3", "0.3.0"),
            ("^0.0.3", "0.0.4"),
            ("~1.2.3", "1.3.0"),
            ("1.2.x", "1.3.0"),
            ("1.2 - 2.3.4", "2.3.5"),
            ("1.2.3 - 2.3", "2.4.0"),
            (">1.2", "1.2.9"),
            ("<1.2", "1.2.0"),
            ("1.0.0", "1.0.1"),
        ];
        for (r, v) in no {
            assert_eq!(satisfies(r, v), Some(false), "{r} {v}");
        }
        for (r, v) in [
            ("latest", "1.0.0"),
            ("^1.0.0", "1.1.0-beta.1"),
            (">=1.0.0-rc.1", "1.0.0"),
            ("workspace:^1", "1.0.0"),
            ("github:a/b", "1.0.0"),
            ("1.x.3", "1.0.3"),
        ] {
            assert_eq!(satisfies(r, v), None, "{r} {v}");
        }
    }
}
