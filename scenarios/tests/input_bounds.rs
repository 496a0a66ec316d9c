//! Input files are bounded: a scenario that is not a regular file or is over the size limit is
//! refused without being read, and a problem quotes at most a prefix of a long value.

use std::path::PathBuf;

use scenarios::{MAX_INPUT_FILE_BYTES, load_paths};

#[cfg(unix)]
#[test]
fn a_device_is_refused_without_being_read() {
    // `validate /dev/zero` used to read until memory ran out.
    let e = load_paths(&[PathBuf::from("/dev/zero")]).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("/dev/zero") && text.contains("not a regular file"),
        "{text}"
    );
}

#[test]
fn a_file_over_the_limit_is_refused_with_the_limit_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.toml");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(MAX_INPUT_FILE_BYTES + 1).unwrap();
    let e = load_paths(&[path]).unwrap_err().to_string();
    assert!(e.contains("huge.toml") && e.contains("limit"), "{e}");
}

#[test]
fn a_long_key_or_value_is_quoted_as_a_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.toml");
    let key = "k".repeat(500_000);
    std::fs::write(&path, format!("name = \"x\"\n{key} = 1\n")).unwrap();
    let e = load_paths(&[path]).unwrap_err().to_string();
    assert!(e.len() < 16 * 1024, "the error is {} bytes long", e.len());
    assert!(e.contains("bytes in all"), "{}", &e[..e.len().min(2000)]);
}
