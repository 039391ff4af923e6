//! `integrity` values as prefetch-npm-deps reads them: space-separated SRI hashes of the two
//! algorithms it accepts, the strongest one being the one it caches under.

use base64::Engine as _;

/// The hash algorithms prefetch-npm-deps accepts, weakest first (the order it prefers them in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algo {
    Sha1,
    Sha512,
}

impl Algo {
    pub fn name(self) -> &'static str {
        match self {
            Algo::Sha1 => "sha1",
            Algo::Sha512 => "sha512",
        }
    }
}

/// One SRI hash of an `integrity` field, as written there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sri {
    pub algo: Algo,
    /// The token verbatim (`sha512-<base64>`): the cache index stores it as is.
    pub text: String,
    pub digest: Vec<u8>,
}

pub(crate) fn parse_sri(token: &str) -> Result<Sri, String> {
    let Some((algo, b64)) = token.split_once('-') else {
        return Err(format!("expected an SRI hash, got {token:?}"));
    };
    let algo = match algo {
        "sha1" => Algo::Sha1,
        "sha512" => Algo::Sha512,
        other => {
            return Err(format!(
                "unknown hash algorithm {other:?} (prefetch-npm-deps accepts sha1 and sha512)"
            ));
        }
    };
    let digest = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("{token:?} is not valid base64: {e}"))?;
    Ok(Sri {
        algo,
        text: token.to_string(),
        digest,
    })
}

/// The strongest hash of a list; two different strongest hashes leave the fetcher's choice to
/// hash-set order, so that is refused.
pub(crate) fn best(hashes: &[Sri]) -> Result<Option<&Sri>, String> {
    let Some(top) = hashes.iter().map(|h| h.algo).max() else {
        return Ok(None);
    };
    let mut strongest = hashes.iter().filter(|h| h.algo == top);
    let first = strongest.next();
    if let Some(other) = strongest.find(|h| Some(&h.text) != first.map(|f| &f.text)) {
        return Err(format!(
            "two different {} hashes ({} and {}); prefetch-npm-deps would pick one at random",
            top.name(),
            first.map_or("", |f| f.text.as_str()),
            other.text
        ));
    }
    Ok(first)
}
