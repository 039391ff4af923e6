//! `[source]` and `[build]`: where the code comes from and how Nix builds it.

use std::collections::BTreeMap;

use super::doc::{Doc, Table};
use super::rules::{self, Problem};
use super::{Anchors, BUILD_KEYS, SECTIONS, SOURCE_KEYS, accept, one_of};
use crate::catalog::model::{Build, Builder, DepsHash, Source, SourceHost};

const HOSTS: [(&str, SourceHost); 3] = [
    ("github", SourceHost::Github),
    ("tangled", SourceHost::Tangled),
    ("git", SourceHost::Git),
];

pub(super) fn read_source(doc: &mut Doc<'_>, t: &Table<'_, '_>) -> Option<Source> {
    doc.unknown_keys(t, SOURCE_KEYS, SECTIONS);
    let host = doc
        .required(t, "host")
        .and_then(|v| one_of(doc, v, "source.host", &HOSTS));
    let owner = doc.opt_str(t, "owner");
    let repo = doc.opt_str(t, "repo");
    let url = doc.opt_str(t, "url");
    let mut place_ok = true;
    match host {
        Some(SourceHost::Git) => {
            place_ok &= doc.required(t, "url").is_some();
            for key in ["owner", "repo"] {
                if let Some(v) = t.get(key) {
                    let hint = "a git source is named by `url` alone; remove this key";
                    doc.report(
                        v.span().range(),
                        t.field(key),
                        format!("`{key}` is only read for host = \"github\" or \"tangled\""),
                        hint,
                    );
                    place_ok = false;
                }
            }
        }
        Some(h) => {
            place_ok &= doc.required(t, "owner").is_some() & doc.required(t, "repo").is_some();
            if let Some(v) = t.get("url") {
                let hint = format!(
                    "a {} source is named by `owner` + `repo`; remove `url` (or use host = \"git\")",
                    h.as_str()
                );
                doc.report(
                    v.span().range(),
                    "source.url",
                    "`url` is only read for host = \"git\"",
                    hint,
                );
                place_ok = false;
            }
        }
        None => {}
    }
    let git_url = match (
        host,
        owner.clone().flatten(),
        repo.clone().flatten(),
        url.clone().flatten(),
    ) {
        (_, _, _, Some(u)) => Some(u),
        (Some(SourceHost::Github), Some(o), Some(r), _) => {
            Some(format!("https://github.com/{o}/{r}"))
        }
        (Some(SourceHost::Tangled), Some(o), Some(r), _) => {
            Some(format!("https://tangled.org/{o}/{r}"))
        }
        _ => None,
    };
    let rev = doc
        .req_str(t, "rev")
        .filter(|r| accept(doc, t, "rev", rules::rev(r, git_url.as_deref())));
    let hash = doc.req_str(t, "hash").filter(|h| {
        let result = if h == rules::FAKE_HASH {
            Err(Problem::new(
                "is lib.fakeHash, a placeholder; the source hash must be real",
                "compute it: `git archive REV | tar -x -C DIR` then `nix hash path DIR`",
            ))
        } else {
            rules::sri_sha256(h)
        };
        accept(doc, t, "hash", result)
    });
    let submodules = doc.opt_bool(t, "submodules", false);
    let verified = doc.opt_bool(t, "verified", false);
    let provenance = doc.req_str(t, "provenance").filter(|p| {
        let p = (p.trim().is_empty()).then(|| {
            Problem::new(
                "is empty",
                "say how the pin was obtained (command and date, or where it was copied from)",
            )
        });
        accept(doc, t, "provenance", p.map_or(Ok(()), Err))
    });
    place_ok.then_some(())?;
    Some(Source {
        host: host?,
        owner: owner?,
        repo: repo?,
        url: url?,
        rev: rev?,
        hash: hash?,
        submodules: submodules?,
        verified: verified?,
        provenance: provenance?,
    })
}

pub(super) fn read_build(
    doc: &mut Doc<'_>,
    t: &Table<'_, '_>,
    anchors: &mut Anchors,
) -> Option<Build> {
    doc.unknown_keys(t, BUILD_KEYS, SECTIONS);
    let language = doc.req_str(t, "language");
    let builder = doc.required(t, "builder").and_then(|v| {
        one_of(
            doc,
            v,
            "build.builder",
            &Builder::ALL.map(|b| (b.as_str(), b)),
        )
    });
    let workspace = doc.opt_str(t, "workspace").filter(|w| match w {
        Some(name) => {
            anchors.workspace = t.get("workspace").map(|v| v.span().range().start);
            accept(doc, t, "workspace", rules::name(name))
        }
        None => true,
    });
    let mut params_ok = true;
    let params = [
        ("members", &[Builder::RustWorkspace][..]),
        ("sub_packages", &[Builder::GoModule][..]),
        (
            "workspaces",
            &[Builder::PnpmWorkspace, Builder::NpmPackage][..],
        ),
    ];
    for (key, builders) in params {
        if let (Some(b), Some(v)) = (builder, t.get(key))
            && !builders.contains(&b)
        {
            let readers: Vec<&str> = builders.iter().map(|b| b.as_str()).collect();
            let msg = format!(
                "`{key}` is only read by the {} builder; this package uses {}",
                readers.join(" and "),
                b.as_str()
            );
            doc.report(
                v.span().range(),
                t.field(key),
                msg,
                format!("remove `{key}` or change `builder`"),
            );
            params_ok = false;
        }
    }
    let members = doc.opt_str_list(t, "members");
    let sub_packages = doc.opt_str_list(t, "sub_packages");
    let workspaces = doc.opt_str_list(t, "workspaces");
    let source_root = doc.opt_str(t, "source_root").filter(|r| {
        let bad = r
            .as_deref()
            .is_some_and(|r| r.is_empty() || r.starts_with('/') || r.split('/').any(|c| c == ".."));
        let p = Problem::new(
            "must be a relative directory inside the source",
            "write e.g. source_root = \"packages/pds\"",
        );
        accept(doc, t, "source_root", if bad { Err(p) } else { Ok(()) })
    });
    let deps_hash = read_deps_hash(doc, t, builder);
    let build_inputs = doc.opt_str_list(t, "build_inputs");
    let native_build_inputs = doc.opt_str_list(t, "native_build_inputs");
    let env = match t.get("env") {
        None => Some(BTreeMap::new()),
        Some(v) => doc
            .as_table(v, "build.env")
            .and_then(|env| read_env(doc, &env)),
    };
    params_ok.then_some(())?;
    Some(Build {
        language: language?,
        builder: builder?,
        workspace: workspace?,
        members: members?,
        sub_packages: sub_packages?,
        workspaces: workspaces?,
        source_root: source_root?,
        deps_hash: deps_hash?,
        build_inputs: build_inputs?,
        native_build_inputs: native_build_inputs?,
        env: env?,
    })
}

fn read_deps_hash(
    doc: &mut Doc<'_>,
    t: &Table<'_, '_>,
    builder: Option<Builder>,
) -> Option<DepsHash> {
    let h = doc.req_str(t, "deps_hash")?;
    if h == "unknown" {
        return Some(DepsHash::Unknown);
    }
    let nix_name = builder.map_or("the dependency hash", |b| b.deps_hash_nix_name());
    let result = if h == rules::FAKE_HASH {
        Err(Problem::new(
            "is lib.fakeHash; write the literal \"unknown\" instead",
            "deps_hash = \"unknown\" becomes lib.fakeHash in Nix, and the first build reports the real hash",
        ))
    } else {
        rules::sri_sha256(&h).map_err(|p| Problem {
            message: format!(
                "{} (this is {nix_name}; write a real SRI hash or \"unknown\")",
                p.message
            ),
            hint: p.hint,
        })
    };
    accept(doc, t, "deps_hash", result).then_some(DepsHash::Known(h))
}

fn read_env(doc: &mut Doc<'_>, env: &Table<'_, '_>) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (key, v) in env.in_file_order() {
        let field = env.field(key.name);
        if let Err(p) = rules::env_var(key.name) {
            doc.problem(key.span.range(), field.clone(), p);
            ok = false;
        }
        match doc.as_str(v, &field) {
            Some(s) => {
                out.insert(key.name.to_string(), s);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}
