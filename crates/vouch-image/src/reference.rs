//! Image references as the command line spells them.

use std::path::PathBuf;

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// `oci:DIR[:TAG]`: an OCI image layout directory, and the `org.opencontainers.image.ref.name`
    /// of the manifest to read when it holds more than one.
    OciLayout {
        /// The layout directory.
        path: PathBuf,
        /// The tag (`ref.name` annotation), when given.
        tag: Option<String>,
    },
    /// `docker-archive:FILE[:REPO:TAG|:@N]`: a `docker save` tar file, and which of its images
    /// to read when it holds more than one (one of its `RepoTags`, or the `N`th image, from 0).
    DockerArchive {
        /// The archive.
        path: PathBuf,
        /// `REPO:TAG` or `@N`, when given.
        image: Option<String>,
    },
    /// `dir:PATH`: an unpacked root filesystem.
    Dir {
        /// The root directory.
        path: PathBuf,
    },
    /// Anything else: a registry reference (`ghcr.io/org/app:1.0`), resolved by the caller.
    Registry(String),
}

/// Recognises the `oci:`, `docker-archive:` and `dir:` prefixes; anything else is a registry
/// reference. In `oci:DIR:TAG` the tag is the text after the last `:` when it holds no path
/// separator, so `oci:C:\images\app` is still a path. In `docker-archive:FILE:REPO:TAG` the
/// file is the text before the first `:` (as skopeo reads it), unless that is a drive letter.
pub fn parse_image_ref(text: &str) -> ImageRef {
    if let Some(rest) = text.strip_prefix("oci:") {
        if let Some((dir, tag)) = rest.rsplit_once(':')
            && !dir.is_empty()
            && !tag.is_empty()
            && !tag.contains(['/', '\\'])
        {
            return ImageRef::OciLayout {
                path: PathBuf::from(dir),
                tag: Some(tag.to_owned()),
            };
        }
        return ImageRef::OciLayout {
            path: PathBuf::from(rest),
            tag: None,
        };
    }
    if let Some(rest) = text.strip_prefix("docker-archive:") {
        let drive = rest.len() > 2
            && rest.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
            && rest.get(1..3).is_some_and(|s| s == ":\\" || s == ":/");
        let split_at = if drive { 2 } else { 0 };
        if let Some(at) = rest.get(split_at..).and_then(|r| r.find(':')) {
            let (file, image) = rest.split_at(split_at + at);
            let image = &image[1..];
            if !file.is_empty() && !image.is_empty() {
                return ImageRef::DockerArchive {
                    path: PathBuf::from(file),
                    image: Some(image.to_owned()),
                };
            }
        }
        return ImageRef::DockerArchive {
            path: PathBuf::from(rest),
            image: None,
        };
    }
    if let Some(rest) = text.strip_prefix("dir:") {
        return ImageRef::Dir {
            path: PathBuf::from(rest),
        };
    }
    ImageRef::Registry(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(
            parse_image_ref("oci:./img:v1"),
            ImageRef::OciLayout {
                path: "./img".into(),
                tag: Some("v1".into())
            }
        );
        assert_eq!(
            parse_image_ref("oci:./img"),
            ImageRef::OciLayout {
                path: "./img".into(),
                tag: None
            }
        );
        assert_eq!(
            parse_image_ref("oci:C:\\img"),
            ImageRef::OciLayout {
                path: "C:\\img".into(),
                tag: None
            }
        );
        assert_eq!(
            parse_image_ref("docker-archive:a.tar"),
            ImageRef::DockerArchive {
                path: "a.tar".into(),
                image: None,
            }
        );
        assert_eq!(
            parse_image_ref("docker-archive:./a.tar:registry.example:5000/team/app:1.0"),
            ImageRef::DockerArchive {
                path: "./a.tar".into(),
                image: Some("registry.example:5000/team/app:1.0".into()),
            }
        );
        assert_eq!(
            parse_image_ref("docker-archive:a.tar:@1"),
            ImageRef::DockerArchive {
                path: "a.tar".into(),
                image: Some("@1".into()),
            }
        );
        assert_eq!(
            parse_image_ref("docker-archive:C:\\images\\a.tar:app:1"),
            ImageRef::DockerArchive {
                path: "C:\\images\\a.tar".into(),
                image: Some("app:1".into()),
            }
        );
        assert_eq!(
            parse_image_ref("docker-archive:a.tar:"),
            ImageRef::DockerArchive {
                path: "a.tar:".into(),
                image: None,
            }
        );
        assert_eq!(parse_image_ref("dir:/"), ImageRef::Dir { path: "/".into() });
        assert_eq!(
            parse_image_ref("ghcr.io/a/b:1"),
            ImageRef::Registry("ghcr.io/a/b:1".into())
        );
    }
}
