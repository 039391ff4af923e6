use super::*;

fn row(version: &str) -> UpstreamRow {
    UpstreamRow {
        name: "p".into(),
        url: "file:///x".into(),
        pinned_rev: "a".repeat(40),
        pinned_version: version.into(),
        default_branch: Some("main".into()),
        head: Some("b".repeat(40)),
        newest_tag: None,
        newest_tag_rev: None,
        behind: Some(3),
        status: Status::Unreachable,
        reason: String::new(),
        problems: Vec::new(),
        release: None,
    }
}

#[test]
fn a_snapshot_follows_the_branch() {
    let mut r = row("0-unstable-2024-01-01");
    r.newest_tag = Some("v1.0".into());
    r.newest_tag_rev = Some("a".repeat(40));
    judge(&mut r);
    assert_eq!(r.status, Status::Outdated);
    assert_eq!(r.reason, "new commits, 3 commits behind main");
    let mut at_head = row("0-unstable-2024-01-01");
    at_head.head = Some("a".repeat(40));
    at_head.behind = Some(0);
    judge(&mut at_head);
    assert_eq!(
        (at_head.status, at_head.reason.as_str()),
        (Status::UpToDate, "at the head of main")
    );
}

#[test]
fn a_release_follows_the_tags() {
    let mut r = row("1.0.0");
    r.newest_tag = Some("v1.1.0".into());
    r.newest_tag_rev = Some("c".repeat(40));
    r.behind = Some(1);
    judge(&mut r);
    assert_eq!(r.status, Status::Outdated);
    assert_eq!(
        r.reason,
        "new tag v1.1.0 (pinned 1.0.0), 1 commit behind main"
    );
    r.newest_tag_rev = Some("a".repeat(40));
    judge(&mut r);
    assert_eq!(r.status, Status::UpToDate);
    assert_eq!(r.reason, "at the newest tag v1.1.0, 1 commit behind main");
}

#[test]
fn not_fetched_says_so() {
    let mut r = row("0-unstable-2024-01-01");
    r.behind = None;
    judge(&mut r);
    assert_eq!(r.reason, "main moved (commits behind not counted)");
}
