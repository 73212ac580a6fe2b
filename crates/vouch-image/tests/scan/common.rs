//! Helpers: tar layers built with the `tar` crate, images written with `layout::write`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use tar::{EntryType, Header};
use vouch_image::layout::{self, Image, Layer};
use vouch_image::{Opened, Progress, ScanOptions, ScannedImage, parse_image_ref};
use vouch_inventory::Package;
use vouch_oci::model::Platform;

/// A tar layer under construction.
pub struct Tar {
    builder: tar::Builder<Vec<u8>>,
}

impl Tar {
    pub fn new() -> Self {
        Tar {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    fn header(kind: EntryType, size: u64, mode: u32) -> Header {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(mode);
        h.set_mtime(0);
        h
    }

    pub fn file(mut self, path: &str, content: &[u8]) -> Self {
        let mut h = Self::header(EntryType::Regular, content.len() as u64, 0o644);
        self.builder.append_data(&mut h, path, content).unwrap();
        self
    }

    pub fn dir(mut self, path: &str) -> Self {
        let mut h = Self::header(EntryType::Directory, 0, 0o755);
        self.builder
            .append_data(&mut h, path, std::io::empty())
            .unwrap();
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let mut h = Self::header(EntryType::Symlink, 0, 0o777);
        self.builder.append_link(&mut h, path, target).unwrap();
        self
    }

    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        let mut h = Self::header(EntryType::Link, 0, 0o644);
        self.builder.append_link(&mut h, path, target).unwrap();
        self
    }

    /// A regular file whose name is written verbatim (the builder refuses `..`).
    pub fn raw_file(mut self, name: &[u8], content: &[u8]) -> Self {
        let mut h = Self::header(EntryType::Regular, content.len() as u64, 0o644);
        let field = &mut h.as_old_mut().name;
        field[..name.len()].copy_from_slice(name);
        h.set_cksum();
        self.builder.append(&h, content).unwrap();
        self
    }

    pub fn bytes(self) -> Vec<u8> {
        self.builder.into_inner().unwrap()
    }
}

pub fn amd64() -> Platform {
    Platform::parse("linux/amd64").unwrap()
}

/// Writes a single-platform image into `dir` and returns its `oci:` reference.
pub fn write_image(dir: &Path, layers: Vec<Layer>) -> String {
    layout::write(
        dir,
        &Image {
            platform: amd64(),
            layers,
        },
        Some("latest"),
    )
    .unwrap();
    format!("oci:{}", dir.display())
}

pub fn options() -> ScanOptions {
    ScanOptions {
        platform: vouch_image::PlatformChoice::Only(amd64()),
        ..ScanOptions::default()
    }
}

pub fn scan_ref(
    reference: &str,
    options: &ScanOptions,
) -> Result<Vec<ScannedImage>, vouch_image::ScanError> {
    let opened: Opened = vouch_image::open(&parse_image_ref(reference))?;
    vouch_image::scan(opened.target(), options)
}

pub fn scan_one(reference: &str) -> ScannedImage {
    let mut images = scan_ref(reference, &options()).unwrap();
    assert_eq!(images.len(), 1);
    images.remove(0)
}

pub fn find<'a>(image: &'a ScannedImage, name: &str) -> Option<&'a Package> {
    image
        .inventory
        .packages()
        .map(|(_, p)| p)
        .find(|p| p.name == name)
}

pub fn names(image: &ScannedImage) -> Vec<String> {
    let mut v: Vec<String> = image
        .inventory
        .libraries()
        .map(|(_, p)| p.name.clone())
        .collect();
    v.sort();
    v
}

pub fn warnings(image: &ScannedImage) -> String {
    image
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Records progress events as `event digest` strings.
pub fn recorder() -> (vouch_image::ProgressFn, Arc<Mutex<Vec<String>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let f: vouch_image::ProgressFn = Arc::new(move |p: &Progress<'_>| {
        let line = match p {
            Progress::LayerStarted { digest, .. } => format!("started {digest}"),
            Progress::LayerBytes { digest, .. } => format!("bytes {digest}"),
            Progress::LayerCached { digest, .. } => format!("cached {digest}"),
            Progress::LayerFinished { digest } => format!("finished {digest}"),
            _ => "other".to_owned(),
        };
        sink.lock().unwrap().push(line);
    });
    (f, events)
}

pub const DEBIAN_OS_RELEASE: &[u8] = b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n\
NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n";

pub const ALPINE_OS_RELEASE: &[u8] =
    b"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n";

pub fn dpkg_record(name: &str, version: &str, extra: &str) -> String {
    format!(
        "Package: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n\
         {extra}Version: {version}\nDescription: {name}\n the {name} package\n\n"
    )
}
