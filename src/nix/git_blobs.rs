//! Blobs read ahead of the NAR writer on worker threads.
//!
//! Inflating pack objects (zlib) is most of the cost of hashing a tree from git objects, and the
//! NAR must still be written in one sequential order. Each worker opens its own handle on the
//! repositories (a libgit2 repository is not shared between threads) and takes every `n`-th blob
//! of the NAR order; the writer takes blob `i` from worker `i % n`, so the blobs arrive in order
//! without a reorder buffer, and each worker runs at most a few blobs ahead (bounded memory).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use git2::{Oid, Repository};

use super::git_filters::Filters;
use super::hash_error::HashError;

/// One regular file to read: which repository, which blob, and what git does to its bytes.
#[derive(Debug, Clone)]
pub struct BlobJob {
    /// The skeleton node the blob belongs to (checked when it is taken).
    pub node: usize,
    pub repo: usize,
    pub oid: Oid,
    pub filters: Filters,
    pub path: Box<str>,
}

/// Blobs each worker may have read but the writer not yet taken.
const AHEAD: usize = 4;

type Ready = Result<(usize, Vec<u8>), HashError>;

/// The running workers; dropping it stops them (their next send fails).
pub struct Prefetch {
    receivers: Vec<Receiver<Ready>>,
    next: usize,
}

impl Prefetch {
    /// Starts `workers` threads reading `jobs` (in NAR order) from the repositories at
    /// `repo_paths` (indexed by [`BlobJob::repo`]).
    pub fn start(repo_paths: Vec<PathBuf>, jobs: Vec<BlobJob>, workers: usize) -> Prefetch {
        let workers = workers.max(1);
        let jobs = Arc::new(jobs);
        let paths = Arc::new(repo_paths);
        let mut receivers = Vec::with_capacity(workers);
        for k in 0..workers {
            let (tx, rx) = sync_channel(AHEAD);
            let (jobs, paths) = (Arc::clone(&jobs), Arc::clone(&paths));
            std::thread::Builder::new()
                .name(format!("atwb-blobs-{k}"))
                .spawn(move || work(&paths, &jobs, k, workers, &tx))
                .expect("spawning a blob reader thread");
            receivers.push(rx);
        }
        Prefetch { receivers, next: 0 }
    }

    /// The next blob in NAR order, filters applied, with the node it belongs to.
    pub fn take_next(&mut self) -> Result<(usize, Vec<u8>), HashError> {
        let rx = &self.receivers[self.next % self.receivers.len()];
        self.next += 1;
        rx.recv().unwrap_or_else(|_| {
            Err(HashError::Write(std::io::Error::other(
                "a blob reader thread stopped",
            )))
        })
    }
}

fn work(paths: &[PathBuf], jobs: &[BlobJob], k: usize, n: usize, tx: &SyncSender<Ready>) {
    let mut repos: Vec<Option<Repository>> = (0..paths.len()).map(|_| None).collect();
    for job in jobs.iter().skip(k).step_by(n) {
        let ready = read(paths, &mut repos, job);
        let failed = ready.is_err();
        if tx.send(ready).is_err() || failed {
            return;
        }
    }
}

fn read(paths: &[PathBuf], repos: &mut [Option<Repository>], job: &BlobJob) -> Ready {
    let slot = &mut repos[job.repo];
    if slot.is_none() {
        let path = &paths[job.repo];
        let repo = Repository::open(path)
            .map_err(HashError::git(format!("opening {}", path.display())))?;
        *slot = Some(repo);
    }
    let repo = slot.as_ref().expect("opened above");
    let blob = repo.find_blob(job.oid).map_err(HashError::git(format!(
        "reading `{}` (blob {})",
        job.path, job.oid
    )))?;
    let data = job.filters.apply(&job.path, blob.content())?.into_owned();
    Ok((job.node, data))
}
