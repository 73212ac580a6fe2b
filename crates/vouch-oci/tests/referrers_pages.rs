//! The referrers API's pagination (distribution-spec v1.1, "Listing Referrers": a registry may
//! answer with part of the list and a `Link` header naming the next page).
//!
//! Debian's `docker-registry` (distribution 2.8), the registry the other tests run, has no
//! referrers API, so the pages come from a small HTTP server in this test that answers only
//! `GET /v2/` and `GET /v2/app/referrers/DIGEST`, page by page, as the specification describes.
//! It binds 127.0.0.1 and stops with the test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use vouch_oci::client::{ClientOptions, Registry, parse_reference};
use vouch_oci::{Credentials, RegistryError};

const SUBJECT: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/// One page: the manifests' digests (one hex digit repeated), and the `Link` header, if any.
struct Page {
    digests: Vec<char>,
    link: Option<String>,
}

/// Serves the pages `pages(host)` gives, by request target (path and query); records every
/// target asked for.
async fn serve(
    pages: impl FnOnce(&str) -> BTreeMap<String, Page>,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&asked);
    let pages = Arc::new(pages(&host));
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let pages = Arc::clone(&pages);
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head);
                let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
                log.lock().unwrap().push(target.clone());
                let (status, link, body) = if target == "/v2/" {
                    ("200 OK", None, "{}".to_owned())
                } else if let Some(page) = pages.get(&target) {
                    let manifests: Vec<String> = page
                        .digests
                        .iter()
                        .map(|c| {
                            format!(
                                r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":1,"artifactType":"application/example"}}"#,
                                c.to_string().repeat(64)
                            )
                        })
                        .collect();
                    (
                        "200 OK",
                        page.link.clone(),
                        format!(
                            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
                            manifests.join(",")
                        ),
                    )
                } else {
                    ("404 Not Found", None, "{}".to_owned())
                };
                let link = link.map(|l| format!("Link: {l}\r\n")).unwrap_or_default();
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/vnd.oci.image.index.v1+json\r\n{link}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (host, asked)
}

fn client(host: &str) -> Registry {
    Registry::new(ClientOptions {
        credentials: Credentials::anonymous(),
        insecure_registries: vec![host.to_owned()],
        connect_timeout: Some(Duration::from_secs(5)),
        read_timeout: Some(Duration::from_secs(10)),
    })
    .unwrap()
}

fn first() -> String {
    format!("/v2/app/referrers/{SUBJECT}")
}

fn page(digests: &str, link: Option<String>) -> Page {
    Page {
        digests: digests.chars().collect(),
        link,
    }
}

async fn list(host: &str) -> Result<Vec<String>, RegistryError> {
    let reference = parse_reference(&format!("{host}/app@{SUBJECT}")).unwrap();
    let index = client(host)
        .referrers_api(&reference, SUBJECT)
        .await?
        .expect("the registry has the referrers API");
    Ok(index
        .manifests
        .iter()
        .map(|d| d.digest[7..8].to_owned())
        .collect())
}

/// Three pages, linked by a path and then by an absolute URL of the registry's origin: one
/// list, in order.
#[tokio::test]
async fn every_page_of_the_referrers_list_is_read_in_order() {
    let (host, asked) = serve(|host| {
        let second = format!("{}?n=2&last=b", first());
        let third = format!("{}?n=2&last=d", first());
        BTreeMap::from([
            (first(), page("ab", Some(format!(r#"<{second}>; rel="next""#)))),
            (
                second,
                page(
                    "cd",
                    Some(format!(
                        r#"<http://{host}/v2/app/referrers/x>; rel="prev", <http://{host}{third}>; rel="next""#
                    )),
                ),
            ),
            (third, page("e", None)),
        ])
    })
    .await;
    assert_eq!(list(&host).await.unwrap(), ["a", "b", "c", "d", "e"]);
    let asked = asked.lock().unwrap().clone();
    let pages: Vec<_> = asked.iter().filter(|t| t.contains("referrers")).collect();
    assert_eq!(pages.len(), 3, "{asked:?}");
}

/// A `Link` to another origin is not followed (the registry's credentials would go there): a
/// clear error naming it, and no request to it.
#[tokio::test]
async fn a_next_page_on_another_origin_is_refused() {
    let (elsewhere, elsewhere_asked) =
        serve(|_| BTreeMap::from([(first(), page("z", None))])).await;
    let (host, _) = serve(|_| {
        BTreeMap::from([(
            first(),
            page(
                "ab",
                Some(format!("<http://{elsewhere}{}>; rel=\"next\"", first())),
            ),
        )])
    })
    .await;
    let error = list(&host).await.unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, RegistryError::ReferrersPages { .. }),
        "{error:?}"
    );
    assert!(text.contains(SUBJECT), "{text}");
    let RegistryError::ReferrersPages { reason, .. } = &error else {
        unreachable!()
    };
    assert!(reason.contains(&elsewhere) && reason.contains("outside the registry's origin"));
    assert!(elsewhere_asked.lock().unwrap().is_empty());
}

/// A registry whose pages never end (each names the next) is read up to a bound, then refused.
#[tokio::test]
async fn endless_pages_stop_at_a_bound() {
    let (host, asked) = serve(|_| {
        (0..100)
            .map(|i| {
                let target = if i == 0 {
                    first()
                } else {
                    format!("{}?last={i}", first())
                };
                let next = format!("<{}?last={}>; rel=\"next\"", first(), i + 1);
                (target, page("a", Some(next)))
            })
            .collect()
    })
    .await;
    let error = list(&host).await.unwrap_err();
    assert!(
        error.to_string().contains("not followed further"),
        "{error}"
    );
    let pages = asked
        .lock()
        .unwrap()
        .iter()
        .filter(|t| t.contains("referrers"))
        .count();
    assert_eq!(pages, 16);
}

/// A registry without the referrers API answers 404 on the first page: `None`, no error.
#[tokio::test]
async fn no_referrers_api_is_none() {
    let (host, _) = serve(|_| BTreeMap::new()).await;
    let reference = parse_reference(&format!("{host}/app@{SUBJECT}")).unwrap();
    assert!(
        client(&host)
            .referrers_api(&reference, SUBJECT)
            .await
            .unwrap()
            .is_none()
    );
}
