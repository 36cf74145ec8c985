//! `imaging-bench`: times imaging's stages on real photos against Pillow on the same files in the same
//! run, and prints a table with the ratios (Pillow's time / ours; above 1 means we are faster).
//!
//! Stages: decode; Lanczos3 ×`factor` alone (the resampling step, on the decoded, oriented image); encode
//! of the upscale (JPEG q95 4:2:0 — the result an upscale of a JPEG is); the whole upscale; compress to
//! `--target-kb` (ours: [`compress`](imaging::ops::compress), counting encodes; Pillow: the original bot's
//! quality ladder 85 → 50 in steps of 5, then downscaling by 0.9 until it fits); WebP → PNG (the photo
//! converted to lossless WebP first, in memory; ours: the whole `image.convert` operation); add text (the
//! photo made a 1280×960 JPEG q90 first; then decode, two lines of Cyrillic and an emoji, large, white on a
//! black plate at 50 % with blurred edges, at the bottom, JPEG q90; fonts loaded outside the timing on
//! both sides — Pillow draws the emoji with Noto Color Emoji's bitmap scaled to the text size, as a
//! Pillow bot has to).
//!
//! Times are the median *CPU time of the measuring thread* (ours: `CLOCK_THREAD_CPUTIME_ID`; Pillow:
//! `time.thread_time()`), so other work on a shared machine does not skew the ratios; wall times are
//! printed too. Build with `--release`.
//!
//! libvips (pyvips) runs the same stages but add-text where `--vips-python` is given, single-threaded
//! (`VIPS_CONCURRENCY=1`), timed as its process's CPU time.
//!
//! `cargo run --release -p imaging --bin imaging-bench -- [--factor 2|4] [--iterations N] [--target-kb KB]
//! [--python /path/to/python-with-pillow] [--vips-python /path/to/python-with-pyvips]
//! [--font-dir /usr/share/fonts] [FILE...]` (default files: the iPhone 6 and Nokia 8.3 fixtures).
//!
//! `--peak-rss` measures memory instead: the peak RSS (VmHWM) of one upscale per file, and of an upscale,
//! a JPEG conversion and a compression of a 50 MP photo, each in a fresh process of this binary.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Parser;
use cpu_time::ThreadTime;
use image::ImageFormat;
use imaging::fonts::Fonts;
use imaging::ops::add_text::{self, Spec};
use imaging::ops::compress::{self, Target};
use imaging::ops::convert;
use imaging::ops::upscale::{self, Factor};
use imaging::pipeline::{self, Limits, OutputFormat};
use mediabot_proto::jobs::v1::{AddText, TextPlate, TextSize};

/// The add-text stage's text: two lines of Cyrillic, the second ending in an emoji.
const BENCH_TEXT: &str = "Привет из Москвы!\nХорошего дня 🎉";

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/images"
);

/// The timing helper both Python sides start with: `timed(stage, file, fn)` runs `fn` `iterations` times
/// and prints `file<TAB>stage<TAB>cpu ms<TAB>wall ms<TAB>note`, the medians, CPU time by `CLOCK` (this
/// thread's; a side may set its own after this prelude).
const PYTHON_TIMED: &str = r#"
import statistics, time
CLOCK = time.thread_time

def timed(name, path, fn, extra=lambda r: ""):
    cpu, wall, result = [], [], None
    for _ in range(iterations):
        c0, w0 = CLOCK(), time.perf_counter()
        result = fn()
        cpu.append(CLOCK() - c0); wall.append(time.perf_counter() - w0)
    print(f"{path}\t{name}\t{statistics.median(cpu) * 1000:.2f}\t{statistics.median(wall) * 1000:.2f}\t{extra(result)}", flush=True)
    return result
"#;

/// Pillow's side: the same stages, one line per (file, stage): `file<TAB>stage<TAB>cpu ms<TAB>wall ms
/// <TAB>extra`, the median of `iterations` runs.
const PILLOW_SCRIPT: &str = r#"
import io, sys, time
from PIL import Image, ImageOps, __version__
from PIL import ImageDraw, ImageFont, ImageFilter
iterations, factor, target = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) * 1000
text_font_path, emoji_font_path = sys.argv[4], sys.argv[5]
print(f"version\t{__version__}", flush=True)
SIZE = 91  # large: 9.5 % of 960
text_font = ImageFont.truetype(text_font_path, SIZE)
emoji_font = ImageFont.truetype(emoji_font_path, 109)  # CBDT: the bitmap strike's size only
LINES, EMOJI = ["Привет из Москвы!", "Хорошего дня "], "\U0001F389"

def add_text(data):
    im = load(data).convert("RGB")
    W, H = im.size
    draw = ImageDraw.Draw(im)
    widths = [draw.textlength(l, font=text_font) for l in LINES]
    widths[1] += SIZE
    line_h = int(SIZE * 1.2); block_h = 2 * line_h
    bottom = H - H // 10; top = bottom - block_h
    left = (W - max(widths)) / 2; right = left + max(widths)
    box = [int(left - 0.4 * SIZE), int(top - 0.2 * SIZE), int(right + 0.4 * SIZE), int(bottom + 0.2 * SIZE)]
    # The plate: 50 % black, edges blurred, on a crop around it only.
    pad = 15
    crop = (max(box[0] - pad, 0), max(box[1] - pad, 0), min(box[2] + pad, W), min(box[3] + pad, H))
    mask = Image.new("L", (crop[2] - crop[0], crop[3] - crop[1]), 0)
    ImageDraw.Draw(mask).rectangle([box[0] - crop[0], box[1] - crop[1], box[2] - crop[0], box[3] - crop[1]], fill=128)
    mask = mask.filter(ImageFilter.GaussianBlur(5))
    im.paste((0, 0, 0), crop, mask)
    draw = ImageDraw.Draw(im)
    for i, line in enumerate(LINES):
        draw.text(((W - widths[i]) / 2, top + i * line_h), line, font=text_font, fill=(255, 255, 255))
    e = Image.new("RGBA", (140, 130), (0, 0, 0, 0))
    ImageDraw.Draw(e).text((0, 0), EMOJI, font=emoji_font, embedded_color=True)
    e = e.resize((SIZE, int(SIZE * 130 / 140)), Image.LANCZOS)
    x = int((W - widths[1]) / 2 + widths[1] - SIZE)
    im.paste(e, (x, top + line_h), e)
    out = io.BytesIO(); im.save(out, "JPEG", quality=90); return out.tell()

def load(data):
    im = Image.open(io.BytesIO(data)); im.load(); return im

def ladder(data):
    im = ImageOps.exif_transpose(load(data)).convert("RGB")
    encodes = 0
    for q in range(85, 49, -5):
        out = io.BytesIO(); im.save(out, "JPEG", quality=q); encodes += 1
        if out.tell() <= target: return encodes, out.tell()
    while True:
        im = im.resize((int(im.width * 0.9), int(im.height * 0.9)), Image.LANCZOS)
        out = io.BytesIO(); im.save(out, "JPEG", quality=50); encodes += 1
        if out.tell() <= target: return encodes, out.tell()

for path in sys.argv[6:]:
    data = open(path, "rb").read()
    oriented = ImageOps.exif_transpose(load(data))
    timed("decode", path, lambda: load(data))
    big = timed("lanczos", path, lambda: oriented.resize((oriented.width * factor, oriented.height * factor), Image.LANCZOS))
    def jpeg():
        out = io.BytesIO(); big.save(out, "JPEG", quality=95, subsampling=2); return out.tell()
    timed("encode", path, jpeg)
    def whole():
        im = ImageOps.exif_transpose(load(data))
        im = im.resize((im.width * factor, im.height * factor), Image.LANCZOS)
        out = io.BytesIO(); im.save(out, "JPEG", quality=95, subsampling=2); return out.tell()
    timed("upscale", path, whole)
    timed("compress", path, lambda: ladder(data), lambda r: f"{r[0]} encodes, {r[1] / 1e6:.2f} MB")
    webp = io.BytesIO(); oriented.save(webp, "WEBP", lossless=True, method=0); webp = webp.getvalue()
    def webp_to_png():
        out = io.BytesIO(); load(webp).save(out, "PNG"); return out.tell()
    timed("webp->png", path, webp_to_png)
    small = io.BytesIO(); oriented.convert("RGB").resize((1280, 960), Image.LANCZOS).save(small, "JPEG", quality=90)
    small = small.getvalue()
    timed("add-text", path, lambda: add_text(small), lambda n: f"{n / 1e3:.0f} kB")
"#;

/// pyvips' side of the same stages (libvips through its Python binding), one line per (file, stage) as
/// Pillow's. libvips computes in worker threads even at `VIPS_CONCURRENCY=1`, so its times are the
/// process's CPU time (`time.process_time()`), the process doing nothing else. Every stage is forced to
/// finish (`copy_memory`, `*save_buffer`), since libvips is lazy. No add-text stage: libvips has no colour
/// emoji text.
const VIPS_SCRIPT: &str = r#"
import sys, time
import pyvips
CLOCK = time.process_time
iterations, factor, target = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) * 1000
pyvips.cache_set_max(0)
print(f"version\t{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}", flush=True)

def load(data):
    return pyvips.Image.new_from_buffer(data, "").copy_memory()

def ladder(data):
    im = load(data).autorot()
    encodes = 0
    for q in range(85, 49, -5):
        out = im.jpegsave_buffer(Q=q); encodes += 1
        if len(out) <= target: return encodes, len(out)
    while True:
        im = im.resize(0.9, kernel="lanczos3").copy_memory()
        out = im.jpegsave_buffer(Q=50); encodes += 1
        if len(out) <= target: return encodes, len(out)

for path in sys.argv[4:]:
    data = open(path, "rb").read()
    oriented = load(data).autorot().copy_memory()
    timed("decode", path, lambda: load(data))
    big = timed("lanczos", path, lambda: oriented.resize(factor, kernel="lanczos3").copy_memory())
    timed("encode", path, lambda: len(big.jpegsave_buffer(Q=95, subsample_mode="on")))
    def whole():
        im = pyvips.Image.new_from_buffer(data, "").autorot().resize(factor, kernel="lanczos3")
        return len(im.jpegsave_buffer(Q=95, subsample_mode="on"))
    timed("upscale", path, whole)
    timed("compress", path, lambda: ladder(data), lambda r: f"{r[0]} encodes, {r[1] / 1e6:.2f} MB")
    webp = oriented.webpsave_buffer(lossless=True, effort=0)
    timed("webp->png", path, lambda: len(pyvips.Image.new_from_buffer(webp, "").pngsave_buffer()))
"#;

#[derive(Parser)]
#[command(
    about = "Times imaging's stages on real photos against Pillow and pyvips in the same run"
)]
struct Args {
    /// Upscale factor: 2 or 4.
    #[arg(long, default_value_t = 2)]
    factor: u32,
    /// Runs per file and stage; the median is printed.
    #[arg(long, default_value_t = 5)]
    iterations: usize,
    /// Compression target, kilobytes (one of 1000, 2000, 4000, 8000).
    #[arg(long, default_value_t = 1000)]
    target_kb: u32,
    /// A Python with Pillow installed: also time Pillow on the same files.
    #[arg(long)]
    python: Option<PathBuf>,
    /// A Python with pyvips installed (may be the same): also time libvips on the same files.
    #[arg(long)]
    vips_python: Option<PathBuf>,
    /// Instead of timing: the peak resident memory (VmHWM) of one operation per file, each in a fresh
    /// process: the upscale ×`factor` of every file, and an upscale ×`factor`, a JPEG conversion and a
    /// compression of a 50 MP photo made from the first file.
    #[arg(long)]
    peak_rss: bool,
    /// Internal: run `OPERATION` (upscale, convert, compress) once on `FILE` and print this process's
    /// VmHWM in kB (what `--peak-rss` starts).
    #[arg(long, num_args = 2, value_names = ["OPERATION", "FILE"], hide = true)]
    rss_child: Option<Vec<String>>,
    /// Where the fonts are (DejaVu Sans Bold and Noto Color Emoji from the Debian packages).
    #[arg(long, default_value = "/usr/share/fonts")]
    font_dir: PathBuf,
    /// Image files (default: the iPhone 6 and Nokia 8.3 fixtures).
    files: Vec<PathBuf>,
}

/// Median CPU and wall milliseconds of a stage, and a note (sizes, encodes).
#[derive(Debug, Clone, Default)]
struct Timing {
    cpu_ms: f64,
    wall_ms: f64,
    note: String,
}

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples
        .get(samples.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Runs `stage` `iterations` times; the note comes from the last run.
fn time<T>(
    iterations: usize,
    mut stage: impl FnMut() -> anyhow::Result<T>,
    note: impl Fn(&T) -> String,
) -> anyhow::Result<Timing> {
    let (mut cpu, mut wall, mut last) = (Vec::new(), Vec::new(), None);
    for _ in 0..iterations {
        let (c0, w0) = (ThreadTime::now(), Instant::now());
        let result = stage()?;
        cpu.push(c0.elapsed());
        wall.push(w0.elapsed());
        last = Some(result);
    }
    Ok(Timing {
        cpu_ms: median(cpu),
        wall_ms: median(wall),
        note: last.as_ref().map(note).unwrap_or_default(),
    })
}

type Table = BTreeMap<(String, String), Timing>;

const STAGES: [&str; 7] = [
    "decode",
    "lanczos",
    "encode",
    "upscale",
    "compress",
    "webp->png",
    "add-text",
];

fn ours(args: &Args, path: &PathBuf, table: &mut Table, fonts: &Fonts) -> anyhow::Result<()> {
    let input = std::fs::read(path)?;
    let limits = Limits::default();
    let factor = Factor::try_from(args.factor)?;
    let target = Target::try_from(args.target_kb)?;
    let n = args.iterations;
    let key = |stage: &str| (path.display().to_string(), stage.to_string());
    let oriented = pipeline::orient(pipeline::decode(&input, &limits, factor.get())?);
    let timing = time(
        n,
        || Ok(pipeline::decode(&input, &limits, factor.get())?),
        |_| String::new(),
    )?;
    table.insert(key("decode"), timing);
    let mut big = None;
    // The resampling alone: the input copy it consumes is made outside the timed span.
    let mut cpu = Vec::new();
    let mut wall = Vec::new();
    for _ in 0..n {
        let (c, w, resized) = {
            let copy = oriented.clone();
            let (c0, w0) = (ThreadTime::now(), Instant::now());
            let resized = pipeline::resize(copy, factor.get())?;
            (c0.elapsed(), w0.elapsed(), resized)
        };
        cpu.push(c);
        wall.push(w);
        big = Some(resized);
    }
    let big = big.ok_or_else(|| anyhow::anyhow!("no iterations"))?;
    table.insert(
        key("lanczos"),
        Timing {
            cpu_ms: median(cpu),
            wall_ms: median(wall),
            note: format!("{}x{}", big.width(), big.height()),
        },
    );
    let timing = time(
        n,
        || {
            Ok(pipeline::encode(
                &big,
                OutputFormat::Jpeg(pipeline::JPEG_QUALITY),
            )?)
        },
        |b| format!("{:.2} MB", b.len() as f64 / 1e6),
    )?;
    table.insert(key("encode"), timing);
    drop(big);
    let timing = time(
        n,
        || Ok(upscale::upscale(&input, factor, &limits)?),
        |o| format!("{} {:.2} MB", o.mime_type, o.bytes.len() as f64 / 1e6),
    )?;
    table.insert(key("upscale"), timing);
    let timing = time(
        n,
        || Ok(compress::compress(&input, target, &limits)?),
        |o| {
            format!(
                "{} encodes, {:.2} MB, {}x{}",
                o.encodes,
                o.bytes.len() as f64 / 1e6,
                o.width,
                o.height
            )
        },
    )?;
    table.insert(key("compress"), timing);
    let mut webp = Vec::new();
    image::DynamicImage::ImageRgb8(oriented.to_rgb8())
        .write_to(&mut Cursor::new(&mut webp), ImageFormat::WebP)?;
    // The whole `image.convert` operation (decode, orientation, colour check, preview, PNG encode).
    let timing = time(
        n,
        || Ok(convert::convert(&webp, convert::Target::Png, &limits)?),
        |o| format!("{:.2} MB", o.bytes.len() as f64 / 1e6),
    )?;
    table.insert(key("webp->png"), timing);
    // Add text on a 1280×960 JPEG q90: decode, draw, encode at q90 (Pillow's setting for the comparison;
    // the operation itself writes q95).
    let small = pipeline::resize_to(oriented, 1280, 960)?;
    let small = pipeline::encode_jpeg(&small, 90)?;
    let spec = Spec::try_from(&AddText {
        size: TextSize::Large as i32,
        color_rgb: Some(0xffffff),
        plate: TextPlate::Black as i32,
        ..AddText::with_text(BENCH_TEXT)
    })?;
    let timing = time(
        n,
        || {
            // Glyphs rasterised afresh each run, as Pillow does (font files stay loaded on both sides).
            fonts.clear_glyph_caches();
            let image = pipeline::orient(pipeline::decode(&small, &limits, 1)?);
            let (image, _) = add_text::render(image, &spec, fonts);
            Ok(pipeline::encode_jpeg(&image, 90)?)
        },
        |b| format!("{:.0} kB", b.len() as f64 / 1e3),
    )?;
    // The same with the glyphs rasterised once and cached (what a running service has for common
    // letters): the note says how much of the stage is rasterising.
    let cached = time(
        n,
        || {
            let image = pipeline::orient(pipeline::decode(&small, &limits, 1)?);
            let (image, _) = add_text::render(image, &spec, fonts);
            Ok(pipeline::encode_jpeg(&image, 90)?)
        },
        |_| String::new(),
    )?;
    let timing = Timing {
        note: format!(
            "{}, {:.1} ms with glyphs cached",
            timing.note, cached.cpu_ms
        ),
        ..timing
    };
    table.insert(key("add-text"), timing);
    Ok(())
}

fn pillow(args: &Args, python: &PathBuf, table: &mut Table) -> anyhow::Result<String> {
    let mut command = Command::new(python);
    command
        .arg("-c")
        .arg(format!("{PYTHON_TIMED}{PILLOW_SCRIPT}"))
        .arg(args.iterations.to_string())
        .arg(args.factor.to_string())
        .arg(args.target_kb.to_string())
        .arg(args.font_dir.join("truetype/dejavu/DejaVuSans-Bold.ttf"))
        .arg(args.font_dir.join("truetype/noto/NotoColorEmoji.ttf"))
        .args(&args.files);
    run_python("Pillow", command, table)
}

fn vips(args: &Args, python: &PathBuf, table: &mut Table) -> anyhow::Result<String> {
    let mut command = Command::new(python);
    command
        .env("VIPS_CONCURRENCY", "1")
        .arg("-c")
        .arg(format!("{PYTHON_TIMED}{VIPS_SCRIPT}"))
        .arg(args.iterations.to_string())
        .arg(args.factor.to_string())
        .arg(args.target_kb.to_string())
        .args(&args.files);
    run_python("pyvips", command, table)
}

/// Runs a Python side and reads its lines (`version<TAB>v`, then `file<TAB>stage<TAB>cpu<TAB>wall<TAB>note`)
/// into `table`; returns the version.
fn run_python(name: &str, mut command: Command, table: &mut Table) -> anyhow::Result<String> {
    let output = command.output()?;
    if !output.status.success() {
        anyhow::bail!(
            "the {name} run failed: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut version = String::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["version", v] => version = (*v).to_string(),
            [file, stage, cpu, wall, note] => {
                table.insert(
                    (file.to_string(), stage.to_string()),
                    Timing {
                        cpu_ms: cpu.parse()?,
                        wall_ms: wall.parse()?,
                        note: note.to_string(),
                    },
                );
            }
            _ => anyhow::bail!("unexpected line from the {name} run: {line}"),
        }
    }
    Ok(version)
}

/// The peak resident memory of this process so far (`VmHWM` in /proc/self/status), kB.
fn peak_rss_kb() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmHWM in /proc/self/status"))
}

/// `--rss-child OPERATION FILE`: one operation, then this process's peak RSS.
fn rss_child(args: &Args, operation: &str, file: &str) -> anyhow::Result<()> {
    let input = std::fs::read(file)?;
    let limits = Limits::default();
    let before = peak_rss_kb()?;
    let output = match operation {
        "upscale" => upscale::upscale(&input, Factor::try_from(args.factor)?, &limits)?,
        "convert" => convert::convert(&input, convert::Target::Jpeg, &limits)?,
        "compress" => compress::compress(&input, Target::try_from(args.target_kb)?, &limits)?,
        other => anyhow::bail!("unknown operation {other}"),
    };
    println!(
        "{}\t{before}\t{}x{}",
        peak_rss_kb()?,
        output.width,
        output.height
    );
    Ok(())
}

/// `--peak-rss`: each operation in a fresh process of this binary, its VmHWM read at the end.
fn peak_rss(args: &Args) -> anyhow::Result<()> {
    let first = args
        .files
        .first()
        .ok_or_else(|| anyhow::anyhow!("no files"))?;
    // A 50 MP photo (8660×5773, just under the default limit) made from the first file: Lanczos-enlarged, JPEG q90.
    let fifty = std::env::temp_dir().join(format!("imaging-bench-50mp-{}.jpg", std::process::id()));
    {
        let limits = Limits::default();
        let image = pipeline::orient(pipeline::decode(&std::fs::read(first)?, &limits, 1)?);
        let big = pipeline::resize_to(image, 8660, 5773)?;
        std::fs::write(&fifty, pipeline::encode_jpeg(&big, 90)?)?;
    }
    let mut cases: Vec<(&str, PathBuf)> =
        args.files.iter().map(|f| ("upscale", f.clone())).collect();
    // The most a default imaging job holds: a 50 MP input upscaled ×2 is a 200 MP result (the limit).
    cases.push(("upscale", fifty.clone()));
    cases.push(("convert", fifty.clone()));
    cases.push(("compress", fifty.clone()));
    println!(
        "imaging-bench --peak-rss: one operation per fresh process, VmHWM (the process at start in brackets)"
    );
    println!(
        "{:<34} {:<10} {:>16} {:>12}  result",
        "file", "operation", "peak RSS MiB", "input MB"
    );
    let exe = std::env::current_exe()?;
    for (operation, file) in cases {
        let output = Command::new(&exe)
            .env("RUST_BACKTRACE", "0")
            .arg("--factor")
            .arg(args.factor.to_string())
            .arg("--target-kb")
            .arg(args.target_kb.to_string())
            .arg("--rss-child")
            .arg(operation)
            .arg(&file)
            .output()?;
        if !output.status.success() {
            anyhow::bail!(
                "{operation} of {} failed: {}",
                file.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let fields: Vec<&str> = stdout.trim().split('\t').collect();
        let [peak, before, size] = fields.as_slice() else {
            anyhow::bail!("unexpected child output: {stdout}");
        };
        let mib = |kb: &str| kb.parse::<f64>().map(|k| k / 1024.0).unwrap_or(0.0);
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let op = if operation == "upscale" {
            format!("upscale×{}", args.factor)
        } else {
            operation.to_string()
        };
        println!(
            "{name:<34} {op:<10} {:>16} {:>12.1}  {size}",
            format!("{:.0} ({:.0})", mib(peak), mib(before)),
            std::fs::metadata(&file)?.len() as f64 / 1e6,
        );
    }
    std::fs::remove_file(&fifty)?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if let Some([operation, file]) = args.rss_child.as_deref() {
        return rss_child(&args, operation, file);
    }
    if args.files.is_empty() {
        args.files = vec![
            PathBuf::from(FIXTURES).join("iphone6-3264x2448.jpg"),
            PathBuf::from(FIXTURES).join("nokia-8.3-4608x1976.jpg"),
        ];
    }
    if args.peak_rss {
        return peak_rss(&args);
    }
    args.iterations = args.iterations.max(1);
    let fonts = Fonts::load(&args.font_dir)?;
    // One shaper in the pool with its fonts parsed, as a running service has it.
    {
        let spec = Spec::try_from(&AddText::with_text(BENCH_TEXT))?;
        let _ = add_text::render(image::DynamicImage::new_rgb8(64, 64), &spec, &fonts);
    }
    let mut ours_table = Table::new();
    for path in &args.files {
        ours(&args, path, &mut ours_table, &fonts)?;
    }
    let mut pillow_table = Table::new();
    let pillow_version = match &args.python {
        Some(python) => Some(pillow(&args, python, &mut pillow_table)?),
        None => None,
    };
    let mut vips_table = Table::new();
    let vips_version = match &args.vips_python {
        Some(python) => Some(vips(&args, python, &mut vips_table)?),
        None => None,
    };
    println!(
        "imaging-bench: x{}, compress to {} kB, {} iterations, median CPU time (wall in brackets){}{}; ratio = theirs / ours",
        args.factor,
        args.target_kb,
        args.iterations,
        pillow_version
            .map(|v| format!("; Pillow {v}"))
            .unwrap_or_default(),
        vips_version
            .map(|v| format!("; libvips {v} (pyvips, 1 thread)"))
            .unwrap_or_default()
    );
    println!(
        "{:<26} {:<10} {:>16} {:>16} {:>7} {:>16} {:>7}  notes (ours | Pillow | pyvips)",
        "file", "stage", "ours ms", "Pillow ms", "ratio", "pyvips ms", "ratio"
    );
    for path in &args.files {
        let file = path.display().to_string();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for stage in STAGES {
            let key = (file.clone(), stage.to_string());
            let ours = ours_table.get(&key).cloned().unwrap_or_default();
            let cell = |t: Option<&Timing>| {
                t.map(|t| format!("{:.1} ({:.1})", t.cpu_ms, t.wall_ms))
                    .unwrap_or_else(|| "-".into())
            };
            let ratio = |t: Option<&Timing>| {
                t.filter(|_| ours.cpu_ms > 0.0)
                    .map(|t| format!("{:.2}x", t.cpu_ms / ours.cpu_ms))
                    .unwrap_or_else(|| "-".into())
            };
            let (pillow, vips) = (pillow_table.get(&key), vips_table.get(&key));
            println!(
                "{name:<26} {stage:<10} {:>16} {:>16} {:>7} {:>16} {:>7}  {} | {} | {}",
                cell(Some(&ours)),
                cell(pillow),
                ratio(pillow),
                cell(vips),
                ratio(vips),
                ours.note,
                pillow.map_or("-", |t| t.note.as_str()),
                vips.map_or("-", |t| t.note.as_str()),
            );
        }
    }
    Ok(())
}
