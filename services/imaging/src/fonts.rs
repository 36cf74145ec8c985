//! The fonts `image.add_text` draws with, loaded once at start-up from a directory of font files
//! (`--font-dir`, default `/usr/share/fonts`; the Debian packages `fonts-dejavu-core` for Latin and
//! Cyrillic and `fonts-noto-color-emoji` for colour emoji, both installed by `scripts/install-deps.sh` and
//! the container image). Nothing is downloaded at run time.
//!
//! Shaping and rasterising is cosmic-text's (HarfRust shaping, font fallback per character, swash
//! rasterising, colour bitmaps for emoji). A cosmic-text `FontSystem` needs `&mut` to shape, so each
//! running job takes one from a small pool ([`Fonts::with_shaper`]); they all share one parsed font
//! database, and a returned one keeps its glyph caches for the next job.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cosmic_text::{FontSystem, SwashCache, fontdb};

/// Families tried, in order, as the sans-serif face the text is set in (the first present wins).
pub const SANS_SERIF_FAMILIES: [&str; 4] =
    ["DejaVu Sans", "Noto Sans", "Liberation Sans", "Open Sans"];

/// A shaper: one cosmic-text font system and its glyph cache, used by one job at a time.
pub struct Shaper {
    /// Fonts, fallback and shaping caches.
    pub font_system: FontSystem,
    /// Rasterised glyphs.
    pub cache: SwashCache,
}

/// Why no fonts could be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FontError {
    /// The directory holds no font file cosmic-text could read.
    #[error(
        "no fonts found in {dir}: install fonts-dejavu-core and fonts-noto-color-emoji \
         (scripts/install-deps.sh) or point --font-dir (IMAGING_FONT_DIR) at a directory of .ttf/.otf files"
    )]
    NoFonts {
        /// The directory searched.
        dir: PathBuf,
    },
}

/// The parsed font files and the pool of shapers over them. Cheap to share (`Arc`).
pub struct Fonts {
    db: fontdb::Database,
    pool: Mutex<Vec<Shaper>>,
    sans_serif: String,
    emoji: Option<String>,
    faces: usize,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts")
            .field("faces", &self.faces)
            .field("sans_serif", &self.sans_serif)
            .field("emoji", &self.emoji)
            .finish()
    }
}

impl Fonts {
    /// Loads every font file under `dir` (recursively). Errors: [`FontError::NoFonts`] when there is
    /// none. A directory without a colour emoji font still loads (emoji then come out as the text
    /// font's replacement boxes), with a warning.
    pub fn load(dir: &Path) -> Result<Arc<Self>, FontError> {
        let mut db = fontdb::Database::new();
        db.load_fonts_dir(dir);
        if db.is_empty() {
            return Err(FontError::NoFonts {
                dir: dir.to_path_buf(),
            });
        }
        let has_family = |name: &str| {
            db.faces()
                .any(|face| face.families.iter().any(|(family, _)| family == name))
        };
        let sans_serif = SANS_SERIF_FAMILIES
            .into_iter()
            .find(|name| has_family(name))
            .map(str::to_string)
            .or_else(|| {
                db.faces()
                    .find(|face| !face.post_script_name.contains("Emoji"))
                    .and_then(|face| face.families.first().map(|(family, _)| family.clone()))
            })
            .ok_or_else(|| FontError::NoFonts {
                dir: dir.to_path_buf(),
            })?;
        db.set_sans_serif_family(sans_serif.clone());
        let emoji = db
            .faces()
            .flat_map(|face| face.families.iter().map(|(family, _)| family.clone()))
            .find(|family| family.contains("Emoji"));
        let faces = db.len();
        match &emoji {
            Some(emoji) => {
                tracing::info!(dir = %dir.display(), faces, %sans_serif, %emoji, "fonts loaded");
            }
            None => tracing::warn!(
                dir = %dir.display(),
                faces,
                %sans_serif,
                "fonts loaded, but no colour emoji font (install fonts-noto-color-emoji)"
            ),
        }
        Ok(Arc::new(Self {
            db,
            pool: Mutex::new(Vec::new()),
            sans_serif,
            emoji,
            faces,
        }))
    }

    /// The family the text is set in (`DejaVu Sans` on Debian).
    pub fn sans_serif(&self) -> &str {
        &self.sans_serif
    }

    /// The colour emoji family, if one was found (`Noto Color Emoji`).
    pub fn emoji(&self) -> Option<&str> {
        self.emoji.as_deref()
    }

    /// Forgets every rasterised glyph (the fonts stay loaded), so the next job rasterises its glyphs
    /// afresh: for benchmarks that must not time a cache a varied workload would rarely hit.
    pub fn clear_glyph_caches(&self) {
        if let Ok(mut pool) = self.pool.lock() {
            for shaper in pool.iter_mut() {
                shaper.cache = SwashCache::new();
            }
        }
    }

    /// Runs `work` with a shaper of its own: one from the pool, or a new one over the shared database
    /// (cloning the database copies face records, not font data). The shaper goes back to the pool after.
    pub fn with_shaper<R>(&self, work: impl FnOnce(&mut Shaper) -> R) -> R {
        let pooled = self.pool.lock().ok().and_then(|mut pool| pool.pop());
        let mut shaper = pooled.unwrap_or_else(|| Shaper {
            // A fixed locale: the result must not depend on the machine's settings.
            font_system: FontSystem::new_with_locale_and_db("en-US".into(), self.db.clone()),
            cache: SwashCache::new(),
        });
        let result = work(&mut shaper);
        if let Ok(mut pool) = self.pool.lock() {
            pool.push(shaper);
        }
        result
    }
}
