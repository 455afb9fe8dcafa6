//! The `ferrobase` binary: `schema check`, `schema print`, `migrate`, and `serve` refusing a
//! pending destructive change.

use std::path::Path;
use std::process::{Command, Output};

fn ferrobase(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrobase"))
        .current_dir(dir)
        .args(args)
        .env_remove("FERROBASE_DATABASE_URL")
        .env_remove("FERROBASE_SCHEMA")
        .env_remove("FERROBASE_DATA_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run ferrobase")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn write(dir: &Path, file: &str, sdl: &str) {
    std::fs::create_dir_all(dir.join("schema")).unwrap();
    std::fs::write(dir.join("schema").join(file), sdl).unwrap();
}

#[test]
fn schema_check_reports_every_problem_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.graphql", "type Post @model {\n  title: Strin\n  author: Autor @belongsTo\n}\n");
    write(
        dir.path(),
        "b.graphql",
        "type Comment @model {\n  body: String @length(min: 5, max: 2)\n  body: String\n}\n",
    );
    let out = ferrobase(dir.path(), &["schema", "check"]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    for place in ["schema/a.graphql:2:", "schema/a.graphql:3:", "schema/b.graphql:2:", "schema/b.graphql:3:"] {
        assert!(t.contains(place), "missing {place} in:\n{t}");
    }
    assert!(t.contains("\"Strin\""), "{t}");
    // The server refuses to start on the same schema.
    let out = ferrobase(dir.path(), &["--listen", "127.0.0.1:0", "serve"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("schema/a.graphql:2:"));
}

#[test]
fn schema_check_passes_with_warnings_and_flags_work_after_the_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.graphql", "type Note @model { text: String! }\n");
    std::fs::rename(dir.path().join("schema"), dir.path().join("models")).unwrap();
    let out = ferrobase(dir.path(), &["schema", "check", "--schema", "models"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("Note has no @auth"), "warns about admin-only models: {t}");
    let out = ferrobase(dir.path(), &["--schema", "models", "schema", "print"]);
    let sdl = String::from_utf8_lossy(&out.stdout);
    assert!(sdl.contains("type NoteConnection"), "{sdl}");
    for expected in ["\tnotes(", "\tnote(", "\tcreateNote(", "input NoteFilter", "input CreateNoteInput", "): Note!"] {
        assert!(sdl.contains(expected), "{expected} missing from:\n{sdl}");
    }
}

#[test]
fn destructive_changes_wait_for_allow_destructive() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let v1 = "type Note @model @auth(rules: [{allow: public}]) {\n  text: String!\n  color: String\n}\n";
    write(d, "app.graphql", v1);
    let out = ferrobase(d, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("create table notes"), "{}", text(&out));

    // Additive: a new optional field migrates on its own.
    write(d, "app.graphql", &v1.replace("color: String", "color: String\n  pinned: Boolean"));
    let out = ferrobase(d, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("pinned"), "{}", text(&out));

    // Destructive: dropping `color` is planned but refused.
    write(
        d,
        "app.graphql",
        "type Note @model @auth(rules: [{allow: public}]) {\n  text: String!\n  pinned: Boolean\n}\n",
    );
    let out = ferrobase(d, &["migrate", "--plan"]);
    assert!(out.status.success());
    assert!(text(&out).contains("drop column notes.color"), "{}", text(&out));
    let out = ferrobase(d, &["migrate"]);
    assert!(!out.status.success(), "refused without the flag");
    assert!(text(&out).contains("--allow-destructive"), "{}", text(&out));
    let out = ferrobase(d, &["--listen", "127.0.0.1:0", "serve"]);
    assert!(!out.status.success(), "serve refuses too");
    assert!(text(&out).contains("ferrobase migrate --allow-destructive"), "{}", text(&out));
    // --plan applied nothing, the refusals applied nothing: the plan is unchanged.
    assert!(text(&ferrobase(d, &["migrate", "--plan"])).contains("drop column notes.color"));

    let out = ferrobase(d, &["migrate", "--allow-destructive"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = ferrobase(d, &["migrate", "--plan"]);
    assert!(text(&out).contains("no changes"), "{}", text(&out));
}

#[test]
fn keys_prints_a_stable_service_key() {
    let dir = tempfile::tempdir().unwrap();
    let a = text(&ferrobase(dir.path(), &["keys"]));
    let b = text(&ferrobase(dir.path(), &["keys"]));
    assert_eq!(a, b);
    assert!(a.contains("Authorization: Bearer fb_sk_"), "{a}");
    assert!(a.contains("JWT signing secret is kept in data/jwt_secret"), "{a}");
    assert!(dir.path().join("data/service_key").exists());
    assert!(dir.path().join("data/jwt_secret").exists());
}

#[test]
fn users_create_makes_a_user_with_a_hashed_password() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app.graphql", "type Note @model @auth(rules: [{allow: public}]) { text: String! }\n");
    let out = ferrobase(
        d,
        &["users", "create", "--email", "Ada@Example.com", "--password", "correct horse", "--role", "editor"],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("created user") && t.contains("Ada@Example.com"), "{t}");
    let again = ferrobase(d, &["users", "create", "--email", "ada@example.com", "--password", "another one"]);
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));
    let short = ferrobase(d, &["users", "create", "--email", "bo@example.com", "--password", "short"]);
    assert!(!short.status.success());
    assert!(text(&short).contains("at least 8 characters"), "{}", text(&short));
}
