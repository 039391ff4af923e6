//! git's smart HTTP protocol for git2 over reqwest (rustls): atwb's libgit2 is built without
//! its own TLS, so without this `https://` remotes (GitHub, Tangled, any forge) could not be
//! listed, cloned or fetched. Registered for `http` and `https` before the first remote
//! operation ([`register`]).
//!
//! The protocol is stateless RPC: `GET <url>/info/refs?service=git-upload-pack` answers the ref
//! advertisement, then each negotiation round is one `POST <url>/git-upload-pack` whose body
//! is what libgit2 wrote and whose response it reads. Only fetching is supported (atwb never
//! pushes). Responses are streamed in chunks, so a large pack is never held in memory whole.

use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream, Transport};

/// Connect and between-bytes limits; a whole clone may take longer than either.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Installs the transport once per process.
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for scheme in ["http", "https"] {
            // SAFETY: called once, before this process opens any remote (every remote
            // operation of atwb calls `register` first), so no transport is created meanwhile.
            let r = unsafe {
                git2::transport::register(scheme, |remote| {
                    Transport::smart(remote, true, HttpTransport::default())
                })
            };
            if let Err(e) = r {
                tracing::warn!("registering the {scheme} git transport: {e}");
            }
        }
    });
}

#[derive(Default)]
struct HttpTransport {
    /// The repository URL after the advertisement's redirects, for the POSTs that follow.
    base: Arc<Mutex<Option<String>>>,
}

impl SmartSubtransport for HttpTransport {
    fn action(
        &self,
        url: &str,
        action: Service,
    ) -> Result<Box<dyn SmartSubtransportStream>, git2::Error> {
        let url = url.trim_end_matches('/').to_string();
        match action {
            Service::UploadPackLs => Ok(Box::new(Stream {
                request: Some(Request::Advertise { url }),
                base: self.base.clone(),
                body: Vec::new(),
                response: None,
            })),
            Service::UploadPack => {
                let base = self.base.lock().ok().and_then(|b| b.clone()).unwrap_or(url);
                Ok(Box::new(Stream {
                    request: Some(Request::UploadPack { url: base }),
                    base: self.base.clone(),
                    body: Vec::new(),
                    response: None,
                }))
            }
            Service::ReceivePackLs | Service::ReceivePack => Err(git2::Error::from_str(
                "atwb's git transport only fetches; pushing is not supported",
            )),
        }
    }

    fn close(&self) -> Result<(), git2::Error> {
        Ok(())
    }
}

enum Request {
    Advertise { url: String },
    UploadPack { url: String },
}

/// One request: what libgit2 writes is the body; the first read sends it.
struct Stream {
    request: Option<Request>,
    base: Arc<Mutex<Option<String>>>,
    body: Vec<u8>,
    response: Option<Body>,
}

impl Write for Stream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.body.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(request) = self.request.take() {
            self.response = Some(send(request, std::mem::take(&mut self.body), &self.base)?);
        }
        match &mut self.response {
            Some(body) => body.read(buf),
            None => Ok(0),
        }
    }
}

/// A response body arriving in chunks from the request's thread.
struct Body {
    chunks: Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            match self.chunks.recv() {
                Ok(Ok(chunk)) => (self.current, self.pos) = (chunk, 0),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Sends the request on its own thread with its own runtime (libgit2 calls from any thread,
/// inside a tokio runtime or not), and returns once the status is known.
fn send(request: Request, body: Vec<u8>, base: &Arc<Mutex<Option<String>>>) -> io::Result<Body> {
    let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(16);
    let (status_tx, status_rx) = sync_channel::<io::Result<()>>(1);
    let base = base.clone();
    std::thread::Builder::new()
        .name("atwb-git-http".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => return drop(status_tx.send(Err(e))),
            };
            runtime.block_on(exchange(request, body, &base, &status_tx, &tx));
        })?;
    status_rx
        .recv()
        .map_err(|_| io::Error::other("the HTTP request thread ended without an answer"))??;
    Ok(Body {
        chunks: rx,
        current: Vec::new(),
        pos: 0,
    })
}

async fn exchange(
    request: Request,
    body: Vec<u8>,
    base: &Mutex<Option<String>>,
    status: &std::sync::mpsc::SyncSender<io::Result<()>>,
    chunks: &std::sync::mpsc::SyncSender<io::Result<Vec<u8>>>,
) {
    let client = match reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .user_agent(concat!("git/2.0 (atwb/", env!("CARGO_PKG_VERSION"), ")"))
        .build()
    {
        Ok(c) => c,
        Err(e) => return drop(status.send(Err(io::Error::other(e)))),
    };
    let (shown, builder) = match &request {
        Request::Advertise { url } => {
            let u = format!("{url}/info/refs?service=git-upload-pack");
            (u.clone(), client.get(u))
        }
        Request::UploadPack { url } => {
            let u = format!("{url}/git-upload-pack");
            let b = client
                .post(u.clone())
                .header("Content-Type", "application/x-git-upload-pack-request")
                .header("Accept", "application/x-git-upload-pack-result")
                .body(body);
            (u, b)
        }
    };
    let mut response = match builder.send().await {
        Ok(r) => r,
        Err(e) => return drop(status.send(Err(io::Error::other(describe(&shown, &e))))),
    };
    if !response.status().is_success() {
        let msg = format!("{shown}: HTTP {}", response.status());
        return drop(status.send(Err(io::Error::other(msg))));
    }
    if let Request::Advertise { .. } = request
        && let Ok(mut b) = base.lock()
    {
        // After redirects, the POSTs go where the advertisement came from.
        let final_url = response.url().as_str();
        *b = final_url
            .split_once("/info/refs")
            .map(|(base, _)| base.to_string());
    }
    if status.send(Ok(())).is_err() {
        return;
    }
    loop {
        match response.chunk().await {
            Ok(Some(c)) => {
                if chunks.send(Ok(c.to_vec())).is_err() {
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => return drop(chunks.send(Err(io::Error::other(describe(&shown, &e))))),
        }
    }
}

fn describe(url: &str, e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    if e.is_timeout() {
        format!("{url}: timed out ({cause})")
    } else {
        format!("{url}: {cause}")
    }
}
