//! The container image's entrypoint, exercised without a container engine: the `Dockerfile`'s
//! own ENTRYPOINT and CMD are read, and the built binary is run with those arguments the way the
//! image runs it (an empty working folder, no repository beside it, no environment).

use std::path::Path;
use std::process::Command;

/// The JSON array after `instruction` in the Dockerfile (exec form).
fn exec_form(dockerfile: &str, instruction: &str) -> Vec<String> {
    let line = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix(instruction)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {instruction} in the Dockerfile"));
    serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("{instruction} {line}: {e}"))
}

#[test]
fn the_image_entrypoint_certifies_from_an_empty_folder_with_the_binary_alone() {
    let dockerfile =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Dockerfile"))
            .expect("the Dockerfile at the repository root");
    let entrypoint = exec_form(&dockerfile, "ENTRYPOINT");
    let cmd = exec_form(&dockerfile, "CMD");
    assert_eq!(entrypoint, ["/usr/local/bin/e911-harness"]);
    assert!(
        dockerfile.contains(&format!(
            "COPY --from=build /out/e911-harness {}",
            entrypoint[0]
        )),
        "the entrypoint is the binary the build stage produced"
    );
    // The binary, copied alone into an empty folder, as the image holds it.
    let root = tempfile::tempdir().unwrap();
    let bin = root.path().join("e911-harness");
    std::fs::copy(env!("CARGO_BIN_EXE_e911-harness"), &bin).unwrap();
    let work = root.path().join("home");
    std::fs::create_dir(&work).unwrap();
    let out = Command::new(&bin)
        .args(&cmd)
        .current_dir(&work)
        .env_clear()
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("PASSED"), "{text}");
    for f in ["report.json", "junit.xml", "summary.md"] {
        assert!(work.join("out/certify").join(f).is_file(), "{f}\n{text}");
    }
    let report = std::fs::read_to_string(work.join("out/certify/report.json")).unwrap();
    let report = reports::from_json_str(&report).unwrap();
    assert_eq!(
        report.scenarios.len(),
        scenarios::shipped().unwrap().len(),
        "the library built into the binary ran, every scenario of it"
    );
}
