//! Paths of tar entries, normalised lexically: the image's files are never touched on disk, so
//! `..` is resolved against the path's own components and a path that climbs above the root is
//! refused rather than clamped.

/// What a tar entry's path turned into.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Normalised {
    /// A path relative to the image root: no leading `/`, no `.` or `..`, `/` separators.
    Path(String),
    /// The root directory itself (`./`, `/`).
    Root,
    /// `..` climbed above the root.
    Escapes,
}

/// Strips leading `/` and `./`, drops empty and `.` components and resolves `..` lexically.
pub(crate) fn normalise(raw: &str) -> Normalised {
    let mut parts: Vec<&str> = Vec::new();
    for component in raw.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Normalised::Escapes;
                }
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        Normalised::Root
    } else {
        Normalised::Path(parts.join("/"))
    }
}

/// The proper ancestors of a normalised path, nearest to the root first: `a/b/c` gives `a`,
/// `a/b`.
pub(crate) fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/')
        .filter_map(move |(i, _)| path.get(..i))
}

/// Splits a normalised path into its parent directory (`""` for the root) and its file name.
pub(crate) fn split(path: &str) -> (&str, &str) {
    match path.rsplit_once('/') {
        Some((parent, name)) => (parent, name),
        None => ("", path),
    }
}

/// Joins a parent directory (`""` for the root) and a name.
pub(crate) fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}/{name}")
    }
}

/// A 64-bit fingerprint of a path: the first eight bytes of its SHA-256. The squash remembers
/// every path of every layer by fingerprint only, so memory stays at eight bytes per entry; a
/// cryptographic hash keeps a crafted layer from colliding with a path it wants to hide.
pub(crate) fn fingerprint(path: &str) -> u64 {
    vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha256, path.as_bytes())
        .and_then(|d| {
            d.hex()
                .get(..16)
                .and_then(|h| u64::from_str_radix(h, 16).ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_lexically() {
        let p = |s: &str| Normalised::Path(s.to_owned());
        assert_eq!(normalise("./etc/os-release"), p("etc/os-release"));
        assert_eq!(normalise("/usr//lib/./x"), p("usr/lib/x"));
        assert_eq!(normalise("a/b/../c"), p("a/c"));
        assert_eq!(normalise("./"), Normalised::Root);
        assert_eq!(normalise("../etc/passwd"), Normalised::Escapes);
        assert_eq!(normalise("a/../../b"), Normalised::Escapes);
    }

    #[test]
    fn ancestors_and_split() {
        assert_eq!(ancestors("a/b/c").collect::<Vec<_>>(), ["a", "a/b"]);
        assert_eq!(ancestors("a").count(), 0);
        assert_eq!(split("a/b/c"), ("a/b", "c"));
        assert_eq!(split("c"), ("", "c"));
        assert_eq!(join("", "x"), "x");
        assert_ne!(fingerprint("a"), fingerprint("b"));
    }
}
