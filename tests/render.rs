//! The summary's HTML in a real browser: headless Chromium (Debian's package, installed by
//! scripts/test) renders it to a PNG, which must exist and not be blank.

use std::path::Path;
use std::process::Command;

use nudge::config::Language;
use nudge::summary::{render, Summary};

/// Renders `html` to a PNG with headless Chromium; returns the PNG's bytes.
fn screenshot(html: &str, dir: &Path) -> Vec<u8> {
    let page = dir.join("summary.html");
    std::fs::write(&page, html).unwrap();
    let png = dir.join("summary.png");
    let status = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=720,1400",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs (scripts/test installs Debian's chromium package)");
    assert!(
        status.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    std::fs::read(&png).expect("the screenshot was written")
}

#[test]
fn the_summary_renders_in_chromium_and_is_not_blank() {
    let dir = tempfile::tempdir().unwrap();
    let (_, html) = render(&Summary::sample(), Language::En).unwrap();
    let png = screenshot(&html, dir.path());

    let decoder = png::Decoder::new(std::io::Cursor::new(&png));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    let bytes = &pixels[..info.buffer_size()];
    let channels = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    let mut inked = 0usize;
    for pixel in bytes.chunks(channels) {
        colours.insert(pixel.to_vec());
        if pixel.iter().take(3).any(|&c| c < 200) {
            inked += 1;
        }
    }
    let total = bytes.len() / channels;
    assert!(colours.len() > 20, "only {} colours: blank?", colours.len());
    assert!(
        inked * 100 > total,
        "only {inked} of {total} pixels carry ink"
    );
    // Keep the latest picture for the README.
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/summary.png");
    let _ = std::fs::write(target, &png);
}
