//! `atwb hash --lockfile Cargo.lock --download`: missing crates fetched from a real HTTP server
//! on 127.0.0.1 serving `.crate` files made in the test, checked against the lockfile, stored in
//! atwb's cache. The hash is compared with `nix hash path` of fetchCargoVendor's staging layout.

mod common;
mod git_fixture;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use git_fixture::{nix_hash_path, tools_present, write};

/// Serves `files` (url path -> bytes), 404 for anything else; counts the requests.
fn serve(files: BTreeMap<String, Vec<u8>>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/crates", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let files = Arc::new(Mutex::new(files));
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap() == 0 || h.trim().is_empty() {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let body = files.lock().unwrap().get(&path).cloned();
            let (status, body) = match body {
                Some(b) => ("200 OK", b),
                None => ("404 Not Found", b"no such crate".to_vec()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    (base, hits)
}

const CRATES: [(&str, &str); 3] = [("lite-a", "1.0.0"), ("b_b", "0.2.1"), ("cc", "3.0.0")];

/// The lockfile, the staging directory fetchCargoVendor would hash, and the crates by url path.
fn project(tmp: &Path) -> (PathBuf, PathBuf, BTreeMap<String, Vec<u8>>) {
    let mut lock =
        String::from("version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n");
    let staging = tmp.join("staging");
    let mut served = BTreeMap::new();
    for (name, version) in CRATES {
        let (file, sum) = common::make_crate(&tmp.join("made"), name, version);
        let bytes = std::fs::read(&file).unwrap();
        lock.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{sum}\"\n"
        ));
        write(
            &staging.join(format!("tarballs/{name}-{version}.tar.gz")),
            &bytes,
        );
        served.insert(format!("/crates/{name}/{name}-{version}.crate"), bytes);
    }
    write(&staging.join("Cargo.lock"), lock.as_bytes());
    let lockfile = tmp.join("project/Cargo.lock");
    write(&lockfile, lock.as_bytes());
    (lockfile, staging, served)
}

fn atwb(tmp: &Path, args: &[&str]) -> Output {
    common::atwb_in(tmp)
        .args(args)
        .output()
        .expect("running atwb")
}

fn cached(tmp: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![tmp.join("state")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.parent().is_some_and(|d| d.ends_with("crates")) {
                out.push(p.file_name().unwrap().to_string_lossy().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn missing_crates_are_downloaded_verified_cached_and_hashed_like_nixpkgs() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (lockfile, staging, served) = project(tmp.path());
    let (base, hits) = serve(served);
    let lock = lockfile.to_str().unwrap();

    let out = atwb(
        tmp.path(),
        &[
            "hash",
            "--lockfile",
            lock,
            "--download",
            "--crates-url",
            &base,
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hash"], nix_hash_path(&staging).as_str());
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert_eq!(
        cached(tmp.path()),
        ["b_b-0.2.1.crate", "cc-3.0.0.crate", "lite-a-1.0.0.crate"]
    );
    assert!(
        !tmp.path().join("cargo-home").exists(),
        "~/.cargo is not written"
    );

    // Cached now: no request, and no --download needed.
    let again = atwb(
        tmp.path(),
        &[
            "hash",
            "--lockfile",
            lock,
            "--download",
            "--crates-url",
            &base,
        ],
    );
    assert!(again.status.success());
    let plain = atwb(tmp.path(), &["hash", "--lockfile", lock]);
    assert!(plain.status.success());
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[test]
fn a_tampered_or_absent_crate_is_refused_by_name_and_not_cached() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (lockfile, _, mut served) = project(tmp.path());
    // b_b is served with one byte changed; cc is not on the server at all.
    let tampered = served.get_mut("/crates/b_b/b_b-0.2.1.crate").unwrap();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    served.remove("/crates/cc/cc-3.0.0.crate");
    let (base, _) = serve(served);
    let out = atwb(
        tmp.path(),
        &[
            "hash",
            "--lockfile",
            lockfile.to_str().unwrap(),
            "--download",
            "--crates-url",
            &base,
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("crate b_b 0.2.1") && err.contains("refused"),
        "{err}"
    );
    assert!(
        err.contains("crate cc 3.0.0") && err.contains("404"),
        "{err}"
    );
    assert_eq!(
        cached(tmp.path()),
        ["lite-a-1.0.0.crate"],
        "only the good crate is kept"
    );
}

#[test]
fn an_unreachable_registry_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (lockfile, _, _) = project(tmp.path());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}/crates");
    let out = atwb(
        tmp.path(),
        &[
            "hash",
            "--lockfile",
            lockfile.to_str().unwrap(),
            "--download",
            "--crates-url",
            &base,
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot connect") && err.contains("crate lite-a 1.0.0"),
        "{err}"
    );
}
