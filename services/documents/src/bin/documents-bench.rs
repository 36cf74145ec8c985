//! `documents-bench`: the documents service's extraction measured side by side, in one run, against the
//! command-line tools on the same files:
//!
//! - PDF text: `documents::pdf::extract` against poppler's `pdftotext FILE -` (Debian's poppler-utils),
//!   each in a process of its own per run (`documents-bench pdf FILE`, so both pay a process start), and
//!   in-process for reference;
//! - OCR: decode + preprocessing + Tesseract through the service's engine against the `tesseract` CLI
//!   (`tesseract IMAGE - -l LANGS`), both per process per run; in-process with a started engine too;
//! - accuracy: the character error rate (Levenshtein distance over characters / reference length, after
//!   collapsing whitespace) of both OCR outputs against the true lines of the page photo.
//!
//! Usage: `documents-bench [--runs N] [--fixtures DIR]` (default: ../shared/fixtures/docs from the
//! repository root); `documents-bench pdf FILE` / `documents-bench ocr FILE LANGS` print one extraction.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use documents::extract::Limits;
use documents::ocr::OcrEngine;

/// The lines printed on `page-photo-ru-en.jpg` (fixtures/docs/README-texts.txt), in reading order.
const PHOTO_LINES: &[&str] = &[
    "Отчёт о работе отдела за третий квартал.",
    "Выручка выросла на 12 процентов по сравнению с прошлым годом.",
    "Главная задача следующего квартала — запуск нового сервиса.",
    "Quarterly report of the engineering team.",
    "Revenue grew by 12 percent compared to last year.",
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let limits = Limits::default();
    match args.first().map(String::as_str) {
        Some("pdf") => {
            let file = args.get(1).ok_or_else(|| anyhow::anyhow!("pdf FILE"))?;
            let engine = OcrEngine::new(None);
            let text = documents::pdf::extract(&std::fs::read(file)?, "rus+eng", &limits, &engine)?;
            println!("{}", text.text);
            return Ok(());
        }
        Some("ocr") => {
            let file = args
                .get(1)
                .ok_or_else(|| anyhow::anyhow!("ocr FILE LANGS"))?;
            let languages = args.get(2).map(String::as_str).unwrap_or("rus+eng");
            let engine = OcrEngine::new(None);
            let text = engine.recognize_image(&std::fs::read(file)?, languages, &limits)?;
            println!("{}", text.text);
            return Ok(());
        }
        _ => {}
    }
    let mut runs = 5usize;
    let mut fixtures = PathBuf::from("../shared/fixtures/docs");
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--runs" => runs = rest.next().and_then(|n| n.parse().ok()).unwrap_or(runs),
            "--fixtures" => fixtures = rest.next().map(PathBuf::from).unwrap_or(fixtures),
            other => anyhow::bail!("unknown argument {other:?}"),
        }
    }
    let me = std::env::current_exe()?;
    let pdf = fixtures.join("report-ru-en.pdf");
    let photo = fixtures.join("page-photo-ru-en.jpg");

    println!(
        "documents-bench: {runs} runs each, median wall time; fixtures {}",
        fixtures.display()
    );
    let ours = median(runs, || run(&me, &["pdf", path(&pdf)]))?;
    let poppler = median(runs, || run(Path::new("pdftotext"), &[path(&pdf), "-"]))?;
    let engine = OcrEngine::new(None);
    let bytes = std::fs::read(&pdf)?;
    let in_process = median(runs, || {
        let started = Instant::now();
        documents::pdf::extract(&bytes, "rus+eng", &limits, &engine)?;
        Ok(started.elapsed())
    })?;
    println!(
        "PDF text ({}): documents {:.1} ms per process, pdftotext {:.1} ms: {:.2}x pdftotext's speed \
         (in-process extraction alone {:.2} ms)",
        pdf.display(),
        ms(ours),
        ms(poppler),
        poppler.as_secs_f64() / ours.as_secs_f64(),
        ms(in_process)
    );

    let ours = median(runs, || run(&me, &["ocr", path(&photo), "rus+eng"]))?;
    let cli = median(runs, || {
        run(
            Path::new("tesseract"),
            &[path(&photo), "-", "-l", "rus+eng"],
        )
    })?;
    let image = std::fs::read(&photo)?;
    engine.check().map_err(anyhow::Error::msg)?;
    let warm = median(runs, || {
        let started = Instant::now();
        engine.recognize_image(&image, "rus+eng", &limits)?;
        Ok(started.elapsed())
    })?;
    println!(
        "OCR ({}, rus+eng): documents {:.0} ms per process, tesseract CLI {:.0} ms: {:.2}x the CLI's time \
         (in-process with a started engine {:.0} ms)",
        photo.display(),
        ms(ours),
        ms(cli),
        ours.as_secs_f64() / cli.as_secs_f64(),
        ms(warm)
    );

    let reference = PHOTO_LINES.join("\n");
    let ours = engine.recognize_image(&image, "rus+eng", &limits)?.text;
    let cli = String::from_utf8(
        Command::new("tesseract")
            .args([path(&photo), "-", "-l", "rus+eng"])
            .stderr(std::process::Stdio::null())
            .output()
            .map_err(|e| anyhow::anyhow!("running tesseract (Debian's tesseract-ocr): {e}"))?
            .stdout,
    )?;
    println!(
        "OCR character error rate on {}: documents {:.2} %, tesseract CLI {:.2} %",
        photo.display(),
        100.0 * cer(&ours, &reference),
        100.0 * cer(&cli, &reference)
    );
    println!(
        "--- documents OCR ---\n{ours}\n--- tesseract CLI ---\n{}",
        cli.trim()
    );
    Ok(())
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs `program` with `args` to its end (output discarded); its wall time.
fn run(program: &Path, args: &[&str]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| anyhow::anyhow!("running {}: {e}", program.display()))?;
    anyhow::ensure!(
        status.success(),
        "{} {args:?} failed: {status}",
        program.display()
    );
    Ok(started.elapsed())
}

/// The median of `runs` measurements (after one warm-up run, which fills the page cache).
fn median(
    runs: usize,
    mut measure: impl FnMut() -> anyhow::Result<Duration>,
) -> anyhow::Result<Duration> {
    measure()?;
    let mut times = (0..runs.max(1))
        .map(|_| measure())
        .collect::<anyhow::Result<Vec<_>>>()?;
    times.sort();
    Ok(times[times.len() / 2])
}

/// Character error rate of `text` against `reference`: the Levenshtein distance between the two (each
/// with runs of whitespace collapsed to one space, trimmed) divided by the reference's length.
pub fn cer(text: &str, reference: &str) -> f64 {
    let normal = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (text, reference) = (normal(text), normal(reference));
    strsim::levenshtein(&text, &reference) as f64 / reference.chars().count().max(1) as f64
}
