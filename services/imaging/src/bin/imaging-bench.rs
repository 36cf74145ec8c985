//! `imaging-bench`: times the stages of the upscale operation on real photos (decode, EXIF orientation +
//! Lanczos3 ×2 or ×4, encode) and, with `--python`, runs Pillow's Lanczos upscale + JPEG q90 on the same
//! files in the same run for comparison. Build with `--release` for meaningful figures.
//!
//! `cargo run --release -p imaging --bin imaging-bench -- [--factor 2|4] [--iterations N] [--python /path/to/python] [FILE...]`
//! (default files: the iPhone 6 and Nokia 8.3 fixtures).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Parser;
use imaging::ops::upscale::Factor;
use imaging::pipeline::{self, Limits};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/images"
);

/// Pillow's side of the comparison: the same stages with Image.open/load, transpose(EXIF), resize(LANCZOS),
/// save(JPEG, quality=90, 4:2:0). Prints one line per file in the same shape as the Rust lines.
const PILLOW_SCRIPT: &str = r#"
import io, sys, time, statistics
from PIL import Image, ImageOps, __version__
iterations, factor = int(sys.argv[1]), int(sys.argv[2])
for path in sys.argv[3:]:
    data = open(path, "rb").read()
    d, r, e, size = [], [], [], 0
    for _ in range(iterations):
        t0 = time.perf_counter(); im = Image.open(io.BytesIO(data)); im.load()
        t1 = time.perf_counter(); im = ImageOps.exif_transpose(im); im = im.resize((im.width * factor, im.height * factor), Image.LANCZOS)
        t2 = time.perf_counter(); out = io.BytesIO(); im.save(out, "JPEG", quality=90, subsampling=2); size = out.tell()
        t3 = time.perf_counter()
        d.append(t1 - t0); r.append(t2 - t1); e.append(t3 - t2)
    ms = lambda xs: statistics.median(xs) * 1000
    name = path.rsplit("/", 1)[-1]
    print(f"pillow {__version__:<7} {name:<28} {im.width}x{im.height:<6} decode {ms(d):8.1f} ms  orient+up {ms(r):8.1f} ms  encode {ms(e):8.1f} ms  total {ms(d)+ms(r)+ms(e):8.1f} ms  out {size/1e6:6.2f} MB")
"#;

#[derive(Parser)]
#[command(about = "Times the imaging pipeline stages on real photos")]
struct Args {
    /// Scale factor: 2 or 4.
    #[arg(long, default_value_t = 2)]
    factor: u32,
    /// Runs per file; the median is printed.
    #[arg(long, default_value_t = 5)]
    iterations: usize,
    /// A Python with Pillow installed: also time Pillow on the same files.
    #[arg(long)]
    python: Option<PathBuf>,
    /// Image files (default: the iPhone 6 and Nokia 8.3 fixtures).
    files: Vec<PathBuf>,
}

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples
        .get(samples.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.files.is_empty() {
        args.files = vec![
            PathBuf::from(FIXTURES).join("iphone6-3264x2448.jpg"),
            PathBuf::from(FIXTURES).join("nokia-8.3-4608x1976.jpg"),
        ];
    }
    let iterations = args.iterations.max(1);
    let limits = Limits::default();
    let factor = Factor::try_from(args.factor)?.get();
    println!("imaging-bench: x{factor}, {iterations} iterations per file, median; single thread");
    for path in &args.files {
        let input = std::fs::read(path)?;
        let (mut decode, mut resize, mut encode) = (Vec::new(), Vec::new(), Vec::new());
        let mut last = None;
        for _ in 0..iterations {
            let t0 = Instant::now();
            let decoded = pipeline::decode(&input, &limits, factor)?;
            let t1 = Instant::now();
            let format = pipeline::output_format(&decoded);
            let resized = pipeline::resize(&pipeline::orient(decoded), factor)?;
            let t2 = Instant::now();
            let bytes = pipeline::encode(&resized, format)?;
            let t3 = Instant::now();
            decode.push(t1 - t0);
            resize.push(t2 - t1);
            encode.push(t3 - t2);
            last = Some((resized.width(), resized.height(), bytes.len()));
        }
        let (width, height, size) = last.unwrap_or_default();
        let (d, r, e) = (median(decode), median(resize), median(encode));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!(
            "rust           {name:<28} {width}x{height:<6} decode {d:8.1} ms  orient+up {r:8.1} ms  encode {e:8.1} ms  total {:8.1} ms  out {:6.2} MB",
            d + r + e,
            size as f64 / 1e6
        );
    }
    if let Some(python) = args.python {
        let status = Command::new(python)
            .arg("-c")
            .arg(PILLOW_SCRIPT)
            .arg(iterations.to_string())
            .arg(factor.to_string())
            .args(&args.files)
            .status()?;
        if !status.success() {
            anyhow::bail!("the Pillow run failed: {status}");
        }
    }
    Ok(())
}
