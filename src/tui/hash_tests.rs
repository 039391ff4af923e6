//! Snapshot of the hash action's old-vs-new dialog, reached through `update` and `on_feedback`
//! as the runtime would (`#`, then the computed hashes).

use crate::jobs::rehash::{HashField, PackageHashes};
use crate::tui::action::{Action, Command, Feedback};
use crate::tui::app::Overlay;
use crate::tui::tests::{fixture_app, render, select};
use crate::tui::update::{on_feedback, update};

fn sample() -> PackageHashes {
    PackageHashes {
        package: "constellation".into(),
        file: "pkgs/microcosm/constellation/package.toml".into(),
        rev: "0123456789abcdef0123456789abcdef01234567".into(),
        source: HashField {
            field: "source.hash",
            old: "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
            new: Ok("sha256-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=".into()),
            from: "git objects of https://github.com/at-microcosm/microcosm-rs at \
                   0123456789ab (fetchFromGitHub (git archive))"
                .into(),
            supported: true,
        },
        deps: HashField {
            field: "build.deps_hash",
            old: "unknown".into(),
            new: Ok("sha256-CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=".into()),
            from: "Cargo.lock at 0123456789ab (cargoHash)".into(),
            supported: true,
        },
        old_verified: false,
        old_provenance: "copied from the upstream flake".into(),
        new_provenance: "computed natively by atwb 0.1.0 from git objects, 2026-12-01".into(),
    }
}

#[test]
fn old_vs_new_dialog() {
    let mut app = fixture_app(100, 30);
    select(&mut app, "constellation");
    assert_eq!(
        update(&mut app, Action::HashPackage),
        vec![Command::ComputeHashes {
            package: "constellation".into()
        }]
    );
    on_feedback(
        &mut app,
        Feedback::HashesComputed {
            package: "constellation".into(),
            result: Ok(Box::new(sample())),
        },
    );
    assert!(matches!(app.overlays.last(), Some(Overlay::Hashes(_))));
    insta::assert_snapshot!(render(&app).backend());
}
