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
    /// `docker-archive:FILE`: a `docker save` tar file.
    DockerArchive {
        /// The archive.
        path: PathBuf,
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
/// separator, so `oci:C:\images\app` is still a path.
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
        return ImageRef::DockerArchive {
            path: PathBuf::from(rest),
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
                path: "a.tar".into()
            }
        );
        assert_eq!(parse_image_ref("dir:/"), ImageRef::Dir { path: "/".into() });
        assert_eq!(
            parse_image_ref("ghcr.io/a/b:1"),
            ImageRef::Registry("ghcr.io/a/b:1".into())
        );
    }
}
