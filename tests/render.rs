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

/// (distinct colours, inked pixels, all pixels) of a PNG.
fn ink(png: &[u8]) -> (usize, usize, usize) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
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
    (colours.len(), inked, bytes.len() / channels)
}

#[test]
fn the_summary_renders_in_chromium_and_is_not_blank() {
    let dir = tempfile::tempdir().unwrap();
    let (_, html) = render(&Summary::sample(), Language::En).unwrap();
    let png = screenshot(&html, dir.path());
    let (colours, inked, total) = ink(&png);
    assert!(colours > 20, "only {colours} colours: blank?");
    assert!(
        inked * 100 > total,
        "only {inked} of {total} pixels carry ink"
    );
    // Keep the latest picture for the README.
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/summary.png");
    let _ = std::fs::write(target, &png);
}

/// The Finnish and German summaries have the longest words of the shipped languages
/// ("Entwürfe-Ordner", "luonnoskansiossasi"): they render too, with as much on the page.
#[test]
fn the_finnish_and_german_summaries_render_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let (_, english) = render(&Summary::sample(), Language::En).unwrap();
    let english_ink = ink(&screenshot(&english, dir.path())).1;
    for language in [Language::Fi, Language::De] {
        let (_, html) = render(&Summary::sample(), language).unwrap();
        assert!(html.contains(&format!("<html lang=\"{}\">", language.code())));
        let (colours, inked, total) = ink(&screenshot(&html, dir.path()));
        assert!(colours > 20, "{language:?}: only {colours} colours: blank?");
        assert!(
            inked * 100 > total,
            "{language:?}: only {inked} of {total} pixels carry ink"
        );
        // The same numbers and sections: within a third of the English page's ink.
        assert!(
            inked * 3 > english_ink * 2 && inked * 2 < english_ink * 3,
            "{language:?}: {inked} inked pixels against {english_ink} in English"
        );
    }
}
